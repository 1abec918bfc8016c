// Empty, loading, error and access states, worded for people rather than for developers.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api';
import { PAGES } from '../paths';

/** A readable sentence for any error a call can throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `You don't have access to this: ${error.message}`;
    if (error.status >= 500)
      return 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** An error in words, with the error code the service gave so an agent can quote it. */
export function inWords(error: unknown): string {
  if (error instanceof ApiError && error.status > 0 && error.status < 500 && error.status !== 403) {
    const message = error.message ? error.message.charAt(0).toUpperCase() + error.message.slice(1) : '';
    return error.code.startsWith('http_') ? message : `${message} (${error.code})`;
  }
  return describeError(error);
}

/** A server message as a sentence: "is already in use" → "Already in use"; "must be >= 1" → "Must be >= 1". */
export function asSentence(message: string): string {
  const text = message.replace(/^is /, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The message for the top of a form: none when a 400's every field error sits under a field
 * in `shown`; otherwise the failure in words (a 409 such as code_taken always says what happened).
 */
export function topError(failure: unknown, shown: string[]): string | null {
  if (!failure) return null;
  if (failure instanceof ApiError && failure.status === 400) {
    const paths = Object.keys(failure.fieldErrors());
    if (paths.length > 0 && paths.every((path) => shown.some((key) => path === key || path.startsWith(`${key}.`))))
      return null;
  }
  return asSentence(describeError(failure));
}

export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="alert error" role="alert">
      <span>{describeError(error)}</span>
      {onRetry && (
        <button type="button" className="secondary small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" aria-busy="true">
      {what}…
    </p>
  );
}

export function NotAllowed({ role }: { role: string }) {
  return (
    <section>
      <h1>Not available</h1>
      <p>This page needs the {role} role. Ask an administrator if you need access.</p>
      <Link to={PAGES.lists}>Back to promo code lists</Link>
    </section>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <Link to={PAGES.lists}>Back to promo code lists</Link>
    </section>
  );
}
