// Empty, loading, error and access states, worded for people rather than for developers.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api';

/** A readable sentence for any error a call can throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `You don't have access to this: ${error.message}`;
    if (error.status >= 500) return 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
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
      <Link to="/lists">Back to promo code lists</Link>
    </section>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <Link to="/lists">Back to promo code lists</Link>
    </section>
  );
}
