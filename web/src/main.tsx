import { type ComponentType, h, render } from 'preact';
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

// The router keeps its page mounted when App re-renders, so a page would go on showing the old
// language after a switch: each page subscribes to the language itself (its children re-render
// with it; their state and form input are kept).
function withLang<P>(Page: ComponentType<P>): ComponentType<P> {
  return function Localised(props: P) {
    useLang();
    return h(Page as ComponentType<object>, props as object);
  };
}
const Pages = {
  Home: withLang(HomePage),
  Survivors: withLang(SurvivorsPage),
  SurvivorNew: withLang(SurvivorNewPage),
  Survivor: withLang(SurvivorPage),
  SurvivorEdit: withLang(SurvivorEditPage),
  Cases: withLang(CasesPage),
  CaseNew: withLang(CaseNewPage),
  Case: withLang(CasePage),
  CaseEdit: withLang(CaseEditPage),
  Audit: withLang(AuditPage),
  Security: withLang(SecurityPage),
  Emergency: withLang(EmergencyPage),
  Compelled: withLang(CompelledPage),
  DataOps: withLang(DataOpsPage),
  NotFound: withLang(NotFoundPage),
};

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
          <Route path="/" component={Pages.Home} />
          <Route path="/survivors" component={Pages.Survivors} />
          <Route path="/survivors/new" component={Pages.SurvivorNew} />
          <Route path="/survivors/:id" component={Pages.Survivor} />
          <Route path="/survivors/:id/edit" component={Pages.SurvivorEdit} />
          <Route path="/cases" component={Pages.Cases} />
          <Route path="/cases/new" component={Pages.CaseNew} />
          <Route path="/cases/:id" component={Pages.Case} />
          <Route path="/cases/:id/edit" component={Pages.CaseEdit} />
          <Route path="/audit" component={Pages.Audit} />
          <Route path="/security" component={Pages.Security} />
          <Route path="/emergency" component={Pages.Emergency} />
          <Route path="/survivors/:id/compelled" component={Pages.Compelled} />
          <Route path="/data" component={Pages.DataOps} />
          <Route default component={Pages.NotFound} />
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
