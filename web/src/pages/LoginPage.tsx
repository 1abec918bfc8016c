// Sign in with email and password; an operator holding a one-time password chooses their own first.
import { useState, type FormEvent } from 'react';
import { ApiError, api, unwrap } from '../api';
import { useSession } from '../session';
import { describeError } from '../components/Feedback';
import { Field } from '../components/Field';

export function LoginPage() {
  const { signedIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      signedIn((await unwrap(api.POST('/session', { body: { email: email.trim(), password } }))).operator);
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 401
          ? 'That email and password do not match an active account.'
          : describeError(failure),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Promo Codes</h1>
        <p className="muted">Sign in to manage promo code lists and help customers.</p>
        <Field label="Email">
          {(props) => (
            <input
              {...props}
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        {error && (
          <div className="alert error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}

export function ChangePasswordPage() {
  const { operator, signedIn, logout } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = repeat !== '' && next !== repeat ? 'The two new passwords differ.' : undefined;
  const tooShort = next !== '' && next.length < 12 ? 'Use at least 12 characters.' : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (mismatch || tooShort) return;
    setBusy(true);
    setError(null);
    try {
      signedIn(
        (await unwrap(api.POST('/session/password', { body: { current_password: current, new_password: next } })))
          .operator,
      );
    } catch (failure) {
      // 401 unauthorized: the session itself has ended (expired, or an admin disabled or reset the account).
      if (failure instanceof ApiError && failure.code === 'unauthorized') return void logout();
      setError(
        failure instanceof ApiError && failure.status === 401
          ? 'The current password is not right.'
          : describeError(failure),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="change-title">
        <h1 id="change-title">Choose your password</h1>
        <p className="muted">{operator?.email} signed in with a one-time password. Choose your own to continue.</p>
        <Field label="One-time password">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="current-password"
              required
              autoFocus
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
            />
          )}
        </Field>
        <Field label="New password" error={tooShort} hint="At least 12 characters.">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              required
              value={next}
              onChange={(e) => setNext(e.target.value)}
            />
          )}
        </Field>
        <Field label="Repeat new password" error={mismatch}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              required
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          )}
        </Field>
        {error && (
          <div className="alert error" role="alert">
            {error}
          </div>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void logout()}>
            Log out
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save password'}
          </button>
        </div>
      </form>
    </div>
  );
}
