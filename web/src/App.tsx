// Routes of the dashboard; the service serves the page on the same paths (PAGES in
// src/dashboard/dashboard.plugin.ts). Signed-out people see the login form; an operator who
// must change a one-time password sees that form first; Settings is for admins only.
import { Navigate, Route, Routes } from 'react-router';
import { useSession } from './session';
import { Layout } from './components/Layout';
import { LoginPage, ChangePasswordPage } from './pages/LoginPage';
import { ListsPage } from './pages/ListsPage';
import { CreateListPage } from './pages/CreateListPage';
import { ListDetailsPage } from './pages/ListDetailsPage';
import { CodesPage } from './pages/CodesPage';
import { TroubleshootPage } from './pages/TroubleshootPage';
import { CustomersPage } from './pages/CustomersPage';
import { SettingsPage } from './pages/SettingsPage';
import { NotAllowed, NotFound } from './components/Feedback';

export function App() {
  const { operator, loading, can } = useSession();
  if (loading)
    return (
      <p className="boot" aria-busy="true">
        Loading…
      </p>
    );
  if (!operator) return <LoginPage />;
  if (operator.must_change_password) return <ChangePasswordPage />;
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Navigate to="/lists" replace />} />
        <Route path="/login" element={<Navigate to="/lists" replace />} />
        <Route path="/lists" element={<ListsPage />} />
        <Route path="/lists/new" element={can('admin') ? <CreateListPage /> : <NotAllowed role="admin" />} />
        <Route path="/lists/:id" element={<ListDetailsPage />} />
        <Route path="/codes" element={<CodesPage />} />
        <Route path="/troubleshoot" element={<TroubleshootPage />} />
        <Route path="/customers" element={<CustomersPage />} />
        <Route path="/customers/:id" element={<CustomersPage />} />
        <Route path="/settings/*" element={can('admin') ? <SettingsPage /> : <NotAllowed role="admin" />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}
