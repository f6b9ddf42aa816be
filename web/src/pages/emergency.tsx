// Break-glass (SECURITY.md S14): emergency access to one survivor's record for one hour, with a
// required reason; audited, and the supervisors of the survivor's agency are alerted. The grant
// is remembered in memory only, to show the expiry banner on the record.
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { ApiError, opsApi } from '../api';
import { ErrorNote, usePageTitle } from '../components/common';
import { formatDateTime, has, t, useLang } from '../i18n';
import { can, getSession } from '../session';
import { useRerenderOn } from '../subscribe';
import { NotAllowed } from './notfound';

// "user id:survivor id" -> expires_at, in this tab's memory only (another login sees none of it).
const grants = new Map<string, string>();
const keyOf = (survivorId: string) => `${getSession()?.user.id ?? ''}:${survivorId}`;
const listeners = new Set<() => void>();

export function rememberEmergency(survivorId: string, expiresAt: string): void {
  grants.set(keyOf(survivorId), expiresAt);
  listeners.forEach((l) => l());
}

/** Who may ask: everyone who works cases, law enforcement included (policy::CanWorkCases). */
export function canBreakGlass(): boolean {
  const s = getSession();
  return !!s && (can.workCases(s.user) || can.seeShared(s.user));
}

export function EmergencyLink({ survivorId }: { survivorId?: string }) {
  if (!canBreakGlass()) return null;
  const href = survivorId ? `/emergency?survivor=${encodeURIComponent(survivorId)}` : '/emergency';
  return (
    <a class="button small" href={href} data-testid="emergency-link">
      {t('emergency.link')}
    </a>
  );
}

/** On a record opened in an emergency: until when, and that it is recorded. */
export function EmergencyBanner({ survivorId }: { survivorId: string }) {
  useRerenderOn(listeners);
  const expires = grants.get(keyOf(survivorId));
  if (!expires) return null;
  const over = Date.parse(expires) <= Date.now();
  return (
    <div class={`notice ${over ? 'notice-error' : 'notice-warning'}`} role="status" data-testid="emergency-banner">
      <strong>{over ? t('emergency.bannerOver') : t('emergency.banner', { time: formatDateTime(expires) })}</strong>{' '}
      {t('emergency.bannerAudit')}
    </div>
  );
}

export function EmergencyPage() {
  useLang();  // re-render on a language switch (the router does not)
  usePageTitle('title.emergency');
  const { route, query } = useLocation();
  const [survivorId, setSurvivorId] = useState(query.survivor ?? '');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!canBreakGlass()) return <NotAllowed />;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const g = await opsApi.breakGlass(survivorId.trim(), reason);
      rememberEmergency(g.survivor_id, g.expires_at);
      route(`/survivors/${encodeURIComponent(g.survivor_id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status !== 0) {
        const key = `apiError.${err.message}`;
        setError({ field: err.field, message: has(key) ? t(key) : err.message });
      } else {
        setError({ message: t('common.error') });
      }
      setBusy(false);
    }
  };
  const fieldError = (f: string) => (error?.field === f ? error.message : null);
  return (
    <>
      <h1>{t('emergency.heading')}</h1>
      <div class="notice notice-warning" data-testid="emergency-terms">
        <p>{t('emergency.intro')}</p>
        <ul>
          <li>{t('emergency.term1')}</li>
          <li>{t('emergency.term2')}</li>
          <li>{t('emergency.term3')}</li>
          <li>{t('emergency.term4')}</li>
        </ul>
      </div>
      <form class="card" onSubmit={submit} noValidate aria-busy={busy} data-testid="emergency-form">
        {error && !error.field && <ErrorNote>{error.message}</ErrorNote>}
        <div class="field">
          <label for="bg-survivor">{t('emergency.survivorId')}</label>
          <p class="hint" id="bg-survivor-hint">{t('emergency.survivorIdHint')}</p>
          <input id="bg-survivor" class="mono" value={survivorId} autoComplete="off" spellcheck={false}
            aria-invalid={!!fieldError('survivor_id')} aria-describedby={fieldError('survivor_id') ? 'bg-survivor-hint bg-survivor-err' : 'bg-survivor-hint'}
            onInput={(e) => setSurvivorId((e.target as HTMLInputElement).value)} />
          {fieldError('survivor_id') && <p class="field-error" id="bg-survivor-err">{fieldError('survivor_id')}</p>}
        </div>
        <div class="field">
          <label for="bg-reason">{t('emergency.reason')}</label>
          <p class="hint" id="bg-reason-hint">{t('emergency.reasonHint')}</p>
          <textarea id="bg-reason" value={reason} maxLength={2000}
            aria-invalid={!!fieldError('reason')} aria-describedby={fieldError('reason') ? 'bg-reason-hint bg-reason-err' : 'bg-reason-hint'}
            onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          {fieldError('reason') && <p class="field-error" id="bg-reason-err">{fieldError('reason')}</p>}
        </div>
        <button class="button danger" type="submit" disabled={busy}>{t('emergency.submit')}</button>
      </form>
    </>
  );
}
