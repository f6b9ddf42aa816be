import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { Loading, PasswordInput, TotpCodeInput, usePageTitle } from '../components/common';
import { t } from '../i18n';
import { lastEndReason, logIn } from '../session';

export function LoginPage() {
  usePageTitle('title.login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Second step (TOTP, SECURITY.md S8): the password stays in this component's memory only.
  const [needCode, setNeedCode] = useState(false);
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const reason = lastEndReason();

  function startAgain() {
    setNeedCode(false);
    setUseRecovery(false);
    setCode('');
    setPassword('');
    setError(null);
  }

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = code.trim();
      await logIn(
        username.trim(),
        password,
        needCode ? (useRecovery ? { recovery_code: answer } : { code: answer.replace(/\s/g, '') }) : undefined,
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 'second_factor_required') {
        setNeedCode(true);
      } else if (needCode) {
        setCode('');
        setError(err instanceof ApiError && err.status !== 0 && err.status < 500 ? t('login.codeFailed') : t('common.error'));
      } else {
        setPassword('');
        setError(err instanceof ApiError && err.status !== 0 && err.status < 500 ? t('login.failed') : t('common.error'));
      }
    } finally {
      setBusy(false);
    }
  }

  if (needCode) {
    return (
      <div class="login-layout">
        <section class="card login-card" aria-labelledby="login-heading">
          <h1 id="login-heading">{t('login.codeHeading')}</h1>
          {error && (
            <div class="notice notice-error" role="alert">
              {error}
            </div>
          )}
          <p>{useRecovery ? t('login.recoveryHelp') : t('login.codeHelp')}</p>
          <form onSubmit={submit} aria-busy={busy}>
            <div class="field">
              <label for="login-code">{useRecovery ? t('login.recoveryCode') : t('login.code')}</label>
              {useRecovery ? (
                <input
                  key="recovery"
                  id="login-code"
                  name="recovery_code"
                  autoComplete="off"
                  autoCapitalize="characters"
                  spellcheck={false}
                  value={code}
                  onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
                  required
                  autoFocus
                />
              ) : (
                <TotpCodeInput id="login-code" value={code} onValue={setCode} autoFocus />
              )}
            </div>
            <div class="actions">
              <button type="submit" class="button primary" disabled={busy}>
                {busy ? t('login.submitting') : t('login.verify')}
              </button>
              <button
                type="button"
                class="button"
                onClick={() => {
                  setUseRecovery(!useRecovery);
                  setCode('');
                  setError(null);
                }}
              >
                {useRecovery ? t('login.useApp') : t('login.useRecovery')}
              </button>
              <button type="button" class="button" onClick={startAgain}>
                {t('login.startAgain')}
              </button>
            </div>
            {busy && <Loading label={t('login.submitting')} />}
          </form>
        </section>
      </div>
    );
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
            <PasswordInput id="login-password" value={password} onValue={setPassword} />
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
