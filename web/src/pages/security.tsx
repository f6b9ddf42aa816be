// Account security: the TOTP second factor (SECURITY.md S8). Turn it on (QR code drawn here in
// the browser, the secret also as text), confirm with a code, see the recovery codes once, turn
// it off with the password and a code. Nothing here is stored in the browser.
import QRCode from 'qrcode';
import { useState } from 'preact/hooks';
import { api, ApiError, type SecondFactorStatus, type TotpEnrolment } from '../api';
import { ErrorNote, Loading, PasswordInput, TotpCodeInput, useAsyncEffect, usePageTitle } from '../components/common';
import { t } from '../i18n';

function errorText(err: unknown, fallbackKey: string): string {
  if (err instanceof ApiError && err.status === 400) return t(fallbackKey);
  return t('common.error');
}

/** The secret in groups of four, easier to type into an app by hand. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

export function SecurityPage() {
  usePageTitle('title.security');
  const [status, setStatus] = useState<SecondFactorStatus | null>(null);
  const [loadError, setLoadError] = useState(false);
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function reload() {
    try {
      setStatus(await api.secondFactor());
    } catch {
      setLoadError(true);
    }
  }
  useAsyncEffect(async () => reload(), []);

  async function begin() {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const e = await api.beginTotp();
      setEnrolment(e);
      setQr(await QRCode.toDataURL(e.otpauth_uri, { errorCorrectionLevel: 'M', margin: 2, scale: 5 }));
    } catch (err) {
      setError(errorText(err, 'common.error'));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const codes = await api.confirmTotp(code.replace(/\s/g, ''));
      setRecovery(codes);
      setEnrolment(null);
      setQr(null);
      setCode('');
      await reload();
    } catch (err) {
      setCode('');
      setError(errorText(err, 'security.codeWrong'));
    } finally {
      setBusy(false);
    }
  }

  async function disable(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.disableTotp(password, code.trim());
      setPassword('');
      setCode('');
      setNotice(t('security.turnedOff'));
      await reload();
    } catch (err) {
      setPassword('');
      setCode('');
      setError(errorText(err, 'security.disableWrong'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="security-heading" class="security-page">
      <h1 id="security-heading">{t('security.heading')}</h1>
      <p>{t('security.intro')}</p>
      {loadError && <ErrorNote>{t('common.error')}</ErrorNote>}
      {!status && !loadError && <Loading />}
      {error && <ErrorNote>{error}</ErrorNote>}
      {notice && (
        <p class="notice notice-info" role="status">
          {notice}
        </p>
      )}

      {recovery && (
        <section class="card" aria-labelledby="recovery-heading" data-testid="recovery-codes">
          <h2 id="recovery-heading">{t('security.recoveryHeading')}</h2>
          <p class="notice notice-info" role="status">
            {t('security.nowOn')}
          </p>
          <p>{t('security.recoveryHelp')}</p>
          <ul class="recovery-codes">
            {recovery.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <div class="actions">
            <button type="button" class="button primary" onClick={() => setRecovery(null)}>
              {t('security.recoverySaved')}
            </button>
          </div>
        </section>
      )}

      {status && !recovery && !status.enabled && !enrolment && (
        <section class="card" aria-labelledby="sf-off-heading">
          <h2 id="sf-off-heading">{t('security.offHeading')}</h2>
          <p>{t('security.offHelp')}</p>
          <div class="actions">
            <button type="button" class="button primary" onClick={() => void begin()} disabled={busy}>
              {t('security.turnOn')}
            </button>
          </div>
        </section>
      )}

      {enrolment && (
        <section class="card" aria-labelledby="sf-setup-heading" data-testid="totp-setup">
          <h2 id="sf-setup-heading">{t('security.setupHeading')}</h2>
          <ol class="setup-steps">
            <li>{t('security.step1')}</li>
            <li>
              {t('security.step2')}
              <div class="qr">{qr && <img src={qr} alt={t('security.qrAlt')} width={200} height={200} />}</div>
              <p>
                {t('security.manual')}{' '}
                <code class="totp-secret" data-testid="totp-secret">
                  {grouped(enrolment.secret)}
                </code>
              </p>
            </li>
            <li>{t('security.step3')}</li>
          </ol>
          <form onSubmit={confirm} aria-busy={busy}>
            <div class="field">
              <label for="totp-confirm-code">{t('login.code')}</label>
              <TotpCodeInput id="totp-confirm-code" value={code} onValue={setCode} />
            </div>
            <div class="actions">
              <button type="submit" class="button primary" disabled={busy}>
                {t('security.confirm')}
              </button>
              <button
                type="button"
                class="button"
                onClick={() => {
                  setEnrolment(null);
                  setQr(null);
                  setCode('');
                  setError(null);
                }}
              >
                {t('common.cancel')}
              </button>
            </div>
          </form>
        </section>
      )}

      {status && status.enabled && !recovery && (
        <section class="card" aria-labelledby="sf-on-heading">
          <h2 id="sf-on-heading">{t('security.onHeading')}</h2>
          <p data-testid="totp-on">{t('security.onHelp', { count: status.recovery_codes_left })}</p>
          <h3>{t('security.turnOffHeading')}</h3>
          <p>{t('security.turnOffHelp')}</p>
          <form onSubmit={disable} aria-busy={busy}>
            <div class="field">
              <label for="totp-off-password">{t('login.password')}</label>
              <PasswordInput id="totp-off-password" value={password} onValue={setPassword} />
            </div>
            <div class="field">
              <label for="totp-off-code">{t('security.codeOrRecovery')}</label>
              <input
                id="totp-off-code"
                name="code"
                autoComplete="one-time-code"
                spellcheck={false}
                value={code}
                onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
                required
              />
            </div>
            <div class="actions">
              <button type="submit" class="button" disabled={busy}>
                {t('security.turnOff')}
              </button>
            </div>
          </form>
        </section>
      )}
      {busy && <Loading />}
      <ApiTokens />
    </section>
  );
}

const TOKEN_LIFETIMES = [30, 90, 365];

/** A key for the caller's own scripts (a bearer token): named, time-limited, shown once. */
function ApiTokens() {
  const [name, setName] = useState('');
  const [days, setDays] = useState(TOKEN_LIFETIMES[0]);
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setToken(await api.createToken(name.trim(), days * 86400));
      setName('');
    } catch (err) {
      setError(errorText(err, 'tokens.nameRequired'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="tokens-h" data-testid="api-tokens">
      <h2 id="tokens-h">{t('tokens.heading')}</h2>
      <p>{t('tokens.intro')}</p>
      {token && (
        <div role="status" data-testid="token-created">
          <p>{t('tokens.created')}</p>
          <p>
            <code class="totp-secret" data-testid="token-value">{token}</code>
          </p>
          <button type="button" class="button" onClick={() => setToken(null)}>
            {t('tokens.saved')}
          </button>
        </div>
      )}
      <form onSubmit={create} aria-busy={busy}>
        {error && <ErrorNote>{error}</ErrorNote>}
        <div class="field">
          <label for="token-name">{t('tokens.name')}</label>
          <input id="token-name" maxLength={100} value={name} required
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="token-days">{t('tokens.lifetime')}</label>
          <select id="token-days" value={String(days)} onChange={(e) => setDays(Number((e.currentTarget as HTMLSelectElement).value))}>
            {TOKEN_LIFETIMES.map((d) => (
              <option key={d} value={String(d)}>{t('tokens.days', { days: d })}</option>
            ))}
          </select>
        </div>
        <div class="actions">
          <button type="submit" class="button" disabled={busy}>
            {t('tokens.create')}
          </button>
        </div>
      </form>
    </section>
  );
}
