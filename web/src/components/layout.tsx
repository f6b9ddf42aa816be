import type { ComponentChildren } from 'preact';
import { useLocation } from 'preact-iso';
import { useEffect, useRef } from 'preact/hooks';
import { quickExit } from '../quickexit';
import { type Lang, lang, roleLabel, setLang, t } from '../i18n';
import { can, logOut, type Session } from '../session';

function QuickExit() {
  return (
    <button type="button" id="quick-exit" class="quick-exit" onClick={quickExit} title={t('quickExit.hint')}>
      <span aria-hidden="true">✕</span> {t('quickExit.label')}
      <span class="visually-hidden"> — {t('quickExit.hint')}</span>
    </button>
  );
}

export function LanguageSwitch() {
  const current = lang();
  const choose = (l: Lang) => () => setLang(l);
  return (
    <div class="lang-switch" role="group" aria-label={t('lang.label')}>
      {(['en', 'es'] as Lang[]).map((l) => (
        <button
          type="button"
          key={l}
          lang={l}
          class={`lang-button${current === l ? ' active' : ''}`}
          aria-pressed={current === l}
          onClick={choose(l)}
        >
          {t(`lang.${l}`)}
        </button>
      ))}
    </div>
  );
}

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const { path } = useLocation();
  const active = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
  return (
    <a href={href} class={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
      {children}
    </a>
  );
}

export function Layout({ session, children }: { session: Session | null; children: ComponentChildren }) {
  const { path } = useLocation();
  const announcer = useRef<HTMLParagraphElement>(null);
  const first = useRef(true);

  // After an in-app navigation, focus returns to the top of the page (before Quick exit), and
  // screen readers hear which page loaded.
  useEffect(() => {
    const el = announcer.current;
    if (!el) return;
    const id = setTimeout(() => {
      el.textContent = t('route.loaded', { page: document.title });
      if (!first.current) el.focus();
      first.current = false;
    }, 0);
    return () => clearTimeout(id);
  }, [path]);

  const user = session?.user;
  return (
    <>
      <p ref={announcer} tabIndex={-1} class="visually-hidden" id="route-announcer" aria-live="polite"></p>
      <QuickExit />
      <a href="#main" class="skip-link" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        {t('skip.main')}
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true"></span>
          <span class="brand-name">{t('app.name')}</span>
          <span class="brand-tag">{t('app.tagline')}</span>
        </div>
        {user && (
          <nav aria-label={t('nav.label')} class="mainnav">
            <NavLink href="/">{t('nav.home')}</NavLink>
            {can.workCases(user) && <NavLink href="/survivors">{t('nav.survivors')}</NavLink>}
            {can.workCases(user) && <NavLink href="/cases">{t('nav.cases')}</NavLink>}
            {can.readAudit(user) && <NavLink href="/audit">{t('nav.audit')}</NavLink>}
            <NavLink href="/security">{t('nav.security')}</NavLink>
            {user.role === 'supervisor' && <NavLink href="/data">{t('nav.data')}</NavLink>}
          </nav>
        )}
        <div class="topbar-tools">
          <LanguageSwitch />
          {user && (
            <>
              <span class="whoami">{t('nav.signedInAs', { name: user.display_name || user.username, role: roleLabel(user.role) })}</span>
              <button type="button" class="button small" onClick={() => void logOut()}>
                {t('nav.logout')}
              </button>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
