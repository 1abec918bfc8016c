import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { useSession } from '../session';

export function Layout({ children }: { children: ReactNode }) {
  const { operator, logout, can } = useSession();
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Promo Codes</div>
        <NavLink to="/lists">Promo code lists</NavLink>
        <NavLink to="/codes">Administer codes</NavLink>
        <NavLink to="/troubleshoot">Troubleshoot</NavLink>
        <NavLink to="/customers">Customers</NavLink>
        {can('admin') && <NavLink to="/settings">Settings</NavLink>}
        <div className="who">
          <span title={operator?.email}>{operator?.name || operator?.email}</span>
          <span className="role">{operator?.role}</span>
          <button type="button" className="link" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
