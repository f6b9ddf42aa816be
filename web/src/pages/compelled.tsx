// Compelled disclosure (SECURITY.md S20): a court order, subpoena, warrant or statutory mandate
// forces a disclosure. Recorded with its legal basis, reference and the minimum data set; the
// survivor must then be told (a task on the home page of the agency's staff).
import { useRoute } from 'preact-iso';
import { useState } from 'preact/hooks';
import { api, ApiError, opsApi, type Agency, type Grant } from '../api';
import { ErrorNote, Loading, useAsyncEffect, usePageTitle } from '../components/common';
import { formatDate, has, t, useLang } from '../i18n';
import { can, getSession } from '../session';
import { NotAllowed } from './notfound';

const BASES = ['court_order', 'subpoena', 'warrant', 'statutory_mandate'];
const CATEGORIES = ['identity', 'contact', 'location', 'demographic', 'trafficking_history', 'immigration', 'medical',
  'safety_plan', 'case_workflow'];

export function canRecordCompelled(): boolean {
  const s = getSession();
  return !!s && (s.user.role === 'supervisor' || can.legalTeam(s.user));
}

function inDays(days: number): string {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

export function CompelledPage() {
  useLang();  // re-render on a language switch (the router does not)
  usePageTitle('title.compelled');
  const { params } = useRoute();
  const survivorId = params.id;
  const [agencies, setAgencies] = useState<Agency[] | null>(null);
  const [recipient, setRecipient] = useState('');
  const [basis, setBasis] = useState(BASES[0]);
  const [reference, setReference] = useState('');
  const [categories, setCategories] = useState<string[]>([]);
  const [expires, setExpires] = useState(inDays(30));
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Grant | null>(null);
  const me = getSession()!.user;
  useAsyncEffect(async (sig) => {
    try {
      const list = (await api.agencies()).filter((a) => a.id !== me.agency_id);
      if (!sig.cancelled) {
        setAgencies(list);
        setRecipient(list[0]?.id ?? '');
      }
    } catch {
      if (!sig.cancelled) setError({ message: t('common.error') });
    }
  }, []);
  if (!canRecordCompelled()) return <NotAllowed />;
  const toggle = (c: string) => setCategories(categories.includes(c) ? categories.filter((x) => x !== c) : [...categories, c]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setDone(await opsApi.compelled({ survivor_id: survivorId, recipient_agency_id: recipient, basis, reference, categories,
        expires_on: expires }));
    } catch (err) {
      if (err instanceof ApiError && err.status !== 0) {
        const key = `apiError.${err.message}`;
        setError({ field: err.field, message: has(key) ? t(key) : err.message });
      } else {
        setError({ message: t('common.error') });
      }
    } finally {
      setBusy(false);
    }
  };
  const fieldLabel = (f?: string) => (f && has(`compelled.field.${f}`) ? `${t(`compelled.field.${f}`)}: ` : '');
  const agencyName = (id: string) => agencies?.find((a) => a.id === id)?.name ?? id;
  if (done) {
    return (
      <>
        <h1>{t('compelled.heading')}</h1>
        <div class="notice notice-info" role="status" data-testid="compelled-done">
          <p><strong>{t('compelled.recorded')}</strong></p>
          <p>{t('compelled.summary', { basis: t(`compelled.basis.${done.purpose}`), agency: agencyName(done.recipient_agency_id),
            date: formatDate(done.expires_at.slice(0, 10)) })}</p>
          <p>{done.categories.map((c) => t(`category.${c}`)).join(', ')}</p>
          <p>{t('compelled.taskCreated')}</p>
        </div>
        <p class="row-actions">
          <a class="button primary" href="/">{t('compelled.toHome')}</a>
          <a class="button" href={`/survivors/${encodeURIComponent(survivorId)}`}>{t('compelled.toSurvivor')}</a>
        </p>
      </>
    );
  }
  return (
    <>
      <h1>{t('compelled.heading')}</h1>
      <p>{t('compelled.intro')}</p>
      {!agencies && !error && <Loading />}
      {agencies && (
        <form class="card" onSubmit={submit} noValidate aria-busy={busy} data-testid="compelled-form">
          {error && <ErrorNote>{fieldLabel(error.field)}{error.message}</ErrorNote>}
          <div class="field">
            <label for="cd-basis">{t('compelled.field.basis')}</label>
            <select id="cd-basis" value={basis} onChange={(e) => setBasis((e.target as HTMLSelectElement).value)}>
              {BASES.map((b) => <option key={b} value={b}>{t(`compelled.basis.${b}`)}</option>)}
            </select>
          </div>
          <div class="field">
            <label for="cd-reference">{t('compelled.field.reference')}</label>
            <p class="hint" id="cd-reference-hint">{t('compelled.referenceHint')}</p>
            <input id="cd-reference" value={reference} maxLength={500} autoComplete="off" aria-describedby="cd-reference-hint"
              aria-invalid={error?.field === 'reference'} onInput={(e) => setReference((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="cd-recipient">{t('compelled.field.recipient_agency_id')}</label>
            <select id="cd-recipient" value={recipient} onChange={(e) => setRecipient((e.target as HTMLSelectElement).value)}>
              {agencies.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          </div>
          <fieldset class="field-multi" aria-describedby="cd-categories-hint">
            <legend>{t('compelled.field.categories')}</legend>
            <p class="hint" id="cd-categories-hint">{t('compelled.categoriesHint')}</p>
            {CATEGORIES.map((c) => (
              <label key={c} class="check">
                <input type="checkbox" checked={categories.includes(c)} onChange={() => toggle(c)} /> {t(`category.${c}`)}
              </label>
            ))}
          </fieldset>
          <div class="field">
            <label for="cd-expires">{t('compelled.field.expires_on')}</label>
            <p class="hint" id="cd-expires-hint">{t('compelled.expiresHint')}</p>
            <input id="cd-expires" type="date" value={expires} aria-describedby="cd-expires-hint"
              aria-invalid={error?.field === 'expires_on'} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
          </div>
          <button class="button primary" type="submit" disabled={busy}>{t('compelled.submit')}</button>
        </form>
      )}
    </>
  );
}
