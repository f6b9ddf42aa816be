import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { Loading, usePageTitle } from '../components/common';
import { t } from '../i18n';
import { lastEndReason, logIn } from '../session';

export function LoginPage() {
  usePageTitle('title.login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reason = lastEndReason();

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await logIn(username.trim(), password);
    } catch (err) {
      setPassword('');
      setError(err instanceof ApiError && err.status !== 0 && err.status < 500 ? t('login.failed') : t('common.error'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="login-layout">
      <section class="card login-card" aria-labelledby="login-heading">
        <h1 id="login-heading">{t('login.heading')}</h1>
        {reason === 'expired' && <p class="notice notice-info">{t('login.sessionEnded')}</p>}
        {reason === 'logout' && <p class="notice notice-info" role="status">{t('login.loggedOut')}</p>}
        {error && (
          <div class="notice notice-error" role="alert">
            {error}
          </div>
        )}
        <form onSubmit={submit} aria-busy={busy}>
          <div class="field">
            <label for="login-username">{t('login.username')}</label>
            <input
              id="login-username"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)}
              required
            />
          </div>
          <div class="field">
            <label for="login-password">{t('login.password')}</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
              required
            />
          </div>
          <div class="actions">
            <button type="submit" class="button primary" disabled={busy}>
              {busy ? t('login.submitting') : t('login.submit')}
            </button>
          </div>
          {busy && <Loading label={t('login.submitting')} />}
        </form>
      </section>
      <aside class="card safety" aria-labelledby="safety-heading" data-testid="safety-notice">
        <h2 id="safety-heading">{t('safety.heading')}</h2>
        <p>{t('safety.p1')}</p>
        <p>{t('safety.p2')}</p>
        <p>{t('safety.p3')}</p>
      </aside>
    </div>
  );
}
