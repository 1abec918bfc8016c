import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import type { Role } from '../api';
import { PAGES, settingsPath } from '../paths';
import { useSession } from '../session';

/** The main navigation, in order; a page with a `role` is shown to that role and above only. */
const NAVIGATION: { to: string; label: string; role?: Role }[] = [
  { to: PAGES.lists, label: 'Promo code lists' },
  { to: PAGES.codes, label: 'Administer codes' },
  { to: PAGES.troubleshoot, label: 'Troubleshoot' },
  { to: PAGES.customers, label: 'Customers' },
  { to: settingsPath(), label: 'Settings', role: 'admin' },
];

export function Layout({ children }: { children: ReactNode }) {
  const { operator, logout, can } = useSession();
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Promo Codes</div>
        {NAVIGATION.filter((item) => !item.role || can(item.role)).map((item) => (
          <NavLink key={item.to} to={item.to}>
            {item.label}
          </NavLink>
        ))}
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
