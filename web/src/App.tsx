// Routes of the dashboard, one per page of the one list (src/dashboard/pages.ts) that the service
// serves the app on too. Signed-out people see the login form; an operator who must change a
// one-time password sees that form first; creating lists and Settings are for admins only.
import type { ReactNode } from 'react';
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
import { PAGES, type PageName } from './paths';

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
  // Every page has its view: a page added to the list without one does not compile.
  const views: Record<PageName, ReactNode> = {
    home: <Navigate to={PAGES.lists} replace />,
    login: <Navigate to={PAGES.lists} replace />,
    lists: <ListsPage />,
    newList: can('admin') ? <CreateListPage /> : <NotAllowed role="admin" />,
    list: <ListDetailsPage />,
    codes: <CodesPage />,
    troubleshoot: <TroubleshootPage />,
    customers: <CustomersPage />,
    customer: <CustomersPage />,
    settings: can('admin') ? <SettingsPage /> : <NotAllowed role="admin" />,
  };
  return (
    <Layout>
      <Routes>
        {(Object.keys(PAGES) as PageName[]).map((page) => (
          <Route key={page} path={PAGES[page]} element={views[page]} />
        ))}
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}
