// Settings (admins only): catalog, API keys, dashboard operators and claim limits, one tab each,
// each at its own address (/settings/catalog, …) so a tab survives a reload.
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { NotFound } from '../components/Feedback';
import { CatalogSettings } from './settings/CatalogSettings';
import { ApiKeysSettings } from './settings/ApiKeysSettings';
import { OperatorsSettings } from './settings/OperatorsSettings';
import { ClaimLimitsSettings } from './settings/ClaimLimitsSettings';

const TABS = [
  { path: 'catalog', label: 'Catalog' },
  { path: 'api-keys', label: 'API keys' },
  { path: 'operators', label: 'Operators' },
  { path: 'claim-limits', label: 'Claim limits' },
];

export function SettingsPage() {
  return (
    <section>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <nav className="tabs" aria-label="Settings">
        {TABS.map((tab) => (
          <NavLink key={tab.path} to={`/settings/${tab.path}`}>
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<Navigate to="/settings/catalog" replace />} />
        <Route path="catalog" element={<CatalogSettings />} />
        <Route path="api-keys" element={<ApiKeysSettings />} />
        <Route path="operators" element={<OperatorsSettings />} />
        <Route path="claim-limits" element={<ClaimLimitsSettings />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </section>
  );
}
