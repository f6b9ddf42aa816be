import { render } from 'preact';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useLayoutEffect } from 'preact/hooks';
import { setUnauthenticatedHandler } from './api';
import { Layout } from './components/layout';
import { useLang } from './i18n';
import { AuditPage } from './pages/audit';
import { CasePage, CaseEditPage, CaseNewPage } from './pages/case';
import { CasesPage } from './pages/cases';
import { HomePage } from './pages/home';
import { LoginPage } from './pages/login';
import { NotFoundPage } from './pages/notfound';
import { SecurityPage } from './pages/security';
import { SurvivorEditPage, SurvivorNewPage, SurvivorPage } from './pages/survivor';
import { SurvivorsPage } from './pages/survivors';
import { CompelledPage } from './pages/compelled';
import { DataOpsPage } from './pages/dataops';
import { EmergencyPage } from './pages/emergency';
import { installEscapeShortcut } from './quickexit';
import { clearSession, getSession, useSession } from './session';
import './styles.css';

setUnauthenticatedHandler(() => {
  if (getSession()) clearSession('expired');
});
installEscapeShortcut();

function App() {
  useLang();
  const session = useSession();
  const { route, path } = useLocation();

  // Logged out (or never logged in, e.g. after a reload): the address goes back to "/", so the
  // URL of a record is not left on screen behind the login form.
  useLayoutEffect(() => {
    if (!session && path !== '/') route('/', true);
  }, [session, path]);

  return (
    <Layout session={session}>
      {!session ? (
        <LoginPage />
      ) : (
        <Router>
          <Route path="/" component={HomePage} />
          <Route path="/survivors" component={SurvivorsPage} />
          <Route path="/survivors/new" component={SurvivorNewPage} />
          <Route path="/survivors/:id" component={SurvivorPage} />
          <Route path="/survivors/:id/edit" component={SurvivorEditPage} />
          <Route path="/cases" component={CasesPage} />
          <Route path="/cases/new" component={CaseNewPage} />
          <Route path="/cases/:id" component={CasePage} />
          <Route path="/cases/:id/edit" component={CaseEditPage} />
          <Route path="/audit" component={AuditPage} />
          <Route path="/security" component={SecurityPage} />
          <Route path="/emergency" component={EmergencyPage} />
          <Route path="/survivors/:id/compelled" component={CompelledPage} />
          <Route path="/data" component={DataOpsPage} />
          <Route default component={NotFoundPage} />
        </Router>
      )}
    </Layout>
  );
}

render(
  <LocationProvider>
    <App />
  </LocationProvider>,
  document.getElementById('app')!,
);
