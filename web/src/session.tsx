// Who is signed in. The app asks the service once at start; a 401 from any call later
// (expired or ended session) sends the person back to the login form.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, onSessionEnded, unwrap, type Operator, type Role } from './api';

interface SessionState {
  operator: Operator | null;
  loading: boolean;
  signedIn(operator: Operator): void;
  logout(): Promise<void>;
  /** True when the operator's role includes `role` (admin ⊃ agent ⊃ client). */
  can(role: Role): boolean;
}

const ORDER: Role[] = ['client', 'agent', 'admin'];
const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [operator, setOperator] = useState<Operator | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    unwrap(api.GET('/session'))
      .then((answer) => setOperator(answer.operator))
      .catch(() => setOperator(null))
      .finally(() => setLoading(false));
    return onSessionEnded(() => setOperator(null));
  }, []);

  const logout = useCallback(async () => {
    await unwrap(api.DELETE('/session')).catch(() => undefined);
    setOperator(null);
  }, []);

  const can = useCallback(
    (role: Role) => !!operator && ORDER.indexOf(operator.role) >= ORDER.indexOf(role),
    [operator],
  );

  return (
    <SessionContext.Provider value={{ operator, loading, signedIn: setOperator, logout, can }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
