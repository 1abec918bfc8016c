// Settings (admins only): catalog, API keys, dashboard operators and claim limits, one tab each,
// each at its own address (/settings/catalog, …) so a tab survives a reload.
import type { ReactNode } from 'react';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { NotFound } from '../components/Feedback';
import { settingsPath } from '../paths';
import { ApiKeysSettings } from './settings/ApiKeysSettings';
import { CatalogSettings } from './settings/CatalogSettings';
import { ClaimLimitsSettings } from './settings/ClaimLimitsSettings';
import { OperatorsSettings } from './settings/OperatorsSettings';

interface Tab {
  path: string;
  label: string;
  view: ReactNode;
}

/** The tabs in order; `/settings` opens the first. */
const TABS: [Tab, ...Tab[]] = [
  { path: 'catalog', label: 'Catalog', view: <CatalogSettings /> },
  { path: 'api-keys', label: 'API keys', view: <ApiKeysSettings /> },
  { path: 'operators', label: 'Operators', view: <OperatorsSettings /> },
  { path: 'claim-limits', label: 'Claim limits', view: <ClaimLimitsSettings /> },
];

export function SettingsPage() {
  return (
    <section>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <nav className="tabs" aria-label="Settings">
        {TABS.map((tab) => (
          <NavLink key={tab.path} to={settingsPath(tab.path)}>
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<Navigate to={settingsPath(TABS[0].path)} replace />} />
        {TABS.map((tab) => (
          <Route key={tab.path} path={tab.path} element={tab.view} />
        ))}
        <Route path="*" element={<NotFound />} />
      </Routes>
    </section>
  );
}
