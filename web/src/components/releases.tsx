// Releases of information (consent, S2): the survivor's written, time-limited, revocable
// permission to share named categories with one agency. List, record, print, revoke; and the
// accounting of what was disclosed (S13).
import { useState } from 'preact/hooks';
import { api, ApiError, type Agency, type Disclosure, type Grant } from '../api';
import { formatDate, formatDateTime, has, lang, t } from '../i18n';
import { EmptyState, ErrorNote, Loading, useAsyncEffect } from './common';
import { ACCEPT, evidenceApi, type EvidenceItem } from '../evidence-api';
import { DownloadButton, kindLabel } from './evidence';

const CATEGORIES = ['identity', 'contact', 'location', 'demographic', 'trafficking_history', 'immigration', 'medical',
  'safety_plan', 'case_workflow'];
const PURPOSES = ['investigation', 'prosecution', 'immigration_relief', 'services_referral', 'victim_compensation',
  'health_care', 'continued_presence'];
const REVOKE_REASONS = ['survivor_request', 'purpose_fulfilled', 'safety_concern', 'recorded_in_error', 'other'];

function label(prefix: string, key: string): string {
  return has(`${prefix}.${key}`) ? t(`${prefix}.${key}`) : key;
}

function inDays(days: number): string {
  const d = new Date(Date.now() + days * 86400000);
  return d.toISOString().slice(0, 10);
}

function ReleaseForm({ survivorId, agencies, onDone }: { survivorId: string; agencies: Agency[]; onDone: () => void }) {
  const [recipient, setRecipient] = useState(agencies[0]?.id ?? '');
  const [categories, setCategories] = useState<string[]>([]);
  const [purpose, setPurpose] = useState(PURPOSES[0]);
  const [expires, setExpires] = useState(inDays(90));
  const [signer, setSigner] = useState('');
  const [guardian, setGuardian] = useState('');
  const [language, setLanguage] = useState<string>(lang());
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (c: string) => setCategories(categories.includes(c) ? categories.filter((x) => x !== c) : [...categories, c]);
  // Named evidence items: any of the survivor's items but attorney work product (never released).
  const [items, setItems] = useState<EvidenceItem[]>([]);
  const [evidenceIds, setEvidenceIds] = useState<string[]>([]);
  useAsyncEffect(async (signal) => {
    const all = await evidenceApi.list(survivorId).catch(() => [] as EvidenceItem[]);
    if (!signal.cancelled) setItems(all.filter((e) => e.kind !== 'attorney_notes'));
  }, [survivorId]);
  const toggleItem = (id: string) =>
    setEvidenceIds(evidenceIds.includes(id) ? evidenceIds.filter((x) => x !== id) : [...evidenceIds, id]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const signers = [{ relationship: 'survivor', name: signer }];
    if (guardian.trim()) signers.push({ relationship: 'guardian', name: guardian });
    try {
      await api.createRelease({ survivor_id: survivorId, recipient_agency_id: recipient, categories, purpose, language,
        expires_on: expires, signers, evidence_ids: evidenceIds });
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? { field: err.field, message: err.message } : { message: t('common.error') });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="release-form" onSubmit={submit} data-testid="release-form" aria-busy={busy}>
      <h3>{t('release.new')}</h3>
      {error && <ErrorNote>{error.field ? `${label('release.field', error.field)}: ${error.message}` : error.message}</ErrorNote>}
      <label for="rel-recipient">{t('release.recipient')}</label>
      <select id="rel-recipient" value={recipient} onChange={(e) => setRecipient((e.target as HTMLSelectElement).value)}>
        {agencies.map((a) => (
          <option key={a.id} value={a.id}>{a.name}</option>
        ))}
      </select>
      <fieldset>
        <legend>{t('release.categories')}</legend>
        {CATEGORIES.map((c) => (
          <label key={c} class="check">
            <input type="checkbox" checked={categories.includes(c)} onChange={() => toggle(c)} /> {t(`category.${c}`)}
          </label>
        ))}
      </fieldset>
      {items.length > 0 && (
        <fieldset data-testid="release-evidence">
          <legend>{t('release.evidence')}</legend>
          {items.map((e) => (
            <label key={e.id} class="check">
              <input type="checkbox" checked={evidenceIds.includes(e.id)} onChange={() => toggleItem(e.id)} /> {e.title} ({kindLabel(e.kind)})
            </label>
          ))}
        </fieldset>
      )}
      <label for="rel-purpose">{t('release.purpose')}</label>
      <select id="rel-purpose" value={purpose} onChange={(e) => setPurpose((e.target as HTMLSelectElement).value)}>
        {PURPOSES.map((p) => (
          <option key={p} value={p}>{label('release.purposeCode', p)}</option>
        ))}
      </select>
      <label for="rel-expires">{t('release.expires')}</label>
      <input id="rel-expires" type="date" required value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
      <label for="rel-language">{t('release.language')}</label>
      <select id="rel-language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
        <option value="en">English</option>
        <option value="es">Español</option>
      </select>
      <label for="rel-signer">{t('release.signer')}</label>
      <input id="rel-signer" required value={signer} onInput={(e) => setSigner((e.target as HTMLInputElement).value)} />
      <label for="rel-guardian">{t('release.guardian')}</label>
      <input id="rel-guardian" value={guardian} onInput={(e) => setGuardian((e.target as HTMLInputElement).value)} />
      <p class="muted">{t('release.signedNote')}</p>
      <button class="primary" type="submit" disabled={busy}>{t('release.record')}</button>
    </form>
  );
}

function ReleaseRow({ g, agencyName, onChanged }: { g: Grant; agencyName: string; onChanged: () => void }) {
  const [reason, setReason] = useState(REVOKE_REASONS[0]);
  const [error, setError] = useState<string | null>(null);
  const [copy, setCopy] = useState<File | null>(null);
  const attach = async () => {
    if (!copy) return;
    try {
      await evidenceApi.attachSignedCopy(g.id, copy);
      onChanged();
    } catch (err) {
      setError(err instanceof ApiError && err.status !== 0 ? t('evidence.badFile') : t('common.error'));
    }
  };
  const revoke = async () => {
    try {
      await api.revokeRelease(g.id, reason);
      onChanged();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t('common.error'));
    }
  };
  return (
    <li class="release" data-testid={`release-${g.id}`}>
      <div>
        <strong>{agencyName}</strong> <span class={`badge release-${g.status}`}>{label('release.status', g.status)}</span>
      </div>
      <div>{g.categories.map((c) => t(`category.${c}`)).join(', ')}</div>
      {(g.evidence_ids ?? []).length > 0 && <div>{t('release.namedItems', { n: String(g.evidence_ids!.length) })}</div>}
      <div class="muted">
        {label('release.purposeCode', g.purpose)} · {t('release.until', { date: formatDate(g.expires_at.slice(0, 10)) })}
      </div>
      <div class="release-actions">
        <a class="button" href={`/api/v1/releases/${encodeURIComponent(g.id)}/document?lang=${g.language}`} target="_blank" rel="noopener">
          {t('release.print')}
        </a>
        {g.status === 'active' && (
          <>
            <label class="visually-hidden" for={`reason-${g.id}`}>{t('release.revokeReason')}</label>
            <select id={`reason-${g.id}`} value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
              {REVOKE_REASONS.map((r) => (
                <option key={r} value={r}>{label('release.reason', r)}</option>
              ))}
            </select>
            <button class="button" type="button" onClick={revoke}>{t('release.revoke')}</button>
          </>
        )}
      </div>
      {g.kind === 'release' && (
        <div class="release-actions" data-testid={`signed-copy-${g.id}`}>
          {g.signed_copy_id ? (
            <>
              <span>{t('release.signedCopyOnFile')}</span>
              <DownloadButton id={g.signed_copy_id} label={t('release.signedCopyDownload')} />
            </>
          ) : (
            <>
              <label for={`copy-${g.id}`}>{t('release.signedCopyFile')}</label>
              <input id={`copy-${g.id}`} type="file" accept={ACCEPT}
                onChange={(e) => setCopy((e.target as HTMLInputElement).files?.[0] ?? null)} />
              <button class="button" type="button" disabled={!copy} onClick={attach}>{t('release.signedCopyAttach')}</button>
            </>
          )}
        </div>
      )}
      {error && <ErrorNote>{error}</ErrorNote>}
    </li>
  );
}

export function ReleasesPanel({ survivorId }: { survivorId: string }) {
  const [state, setState] = useState<{ s: 'loading' } | { s: 'ok'; grants: Grant[]; agencies: Agency[]; disclosures: Disclosure[] } | { s: 'error' }>({ s: 'loading' });
  const [tick, setTick] = useState(0);
  const [adding, setAdding] = useState(false);
  useAsyncEffect(async (signal) => {
    try {
      const [grants, agencies, disclosures] = await Promise.all([api.releases(survivorId), api.agencies(), api.disclosures(survivorId)]);
      if (!signal.cancelled) setState({ s: 'ok', grants, agencies, disclosures });
    } catch {
      if (!signal.cancelled) setState({ s: 'error' });
    }
  }, [survivorId, tick]);
  const reload = () => {
    setAdding(false);
    setTick(tick + 1);
  };
  return (
    <section class="card releases" aria-labelledby="sec-releases" data-testid="section-releases">
      <div class="section-head">
        <h2 id="sec-releases">{t('release.title')}</h2>
        {state.s === 'ok' && !adding && (
          <button class="button" type="button" onClick={() => setAdding(true)}>{t('release.add')}</button>
        )}
      </div>
      <p class="muted">{t('release.explain')}</p>
      {state.s === 'loading' && <Loading />}
      {state.s === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {state.s === 'ok' && (
        <>
          {adding && <ReleaseForm survivorId={survivorId} agencies={state.agencies} onDone={reload} />}
          {state.grants.length === 0 ? (
            <EmptyState>{t('release.none')}</EmptyState>
          ) : (
            <ul class="release-list">
              {state.grants.map((g) => (
                <ReleaseRow key={g.id} g={g} onChanged={reload}
                  agencyName={state.agencies.find((a) => a.id === g.recipient_agency_id)?.name ?? g.recipient_agency_id} />
              ))}
            </ul>
          )}
          <h3>{t('release.disclosures')}</h3>
          {state.disclosures.length === 0 ? (
            <p class="muted">{t('release.noDisclosures')}</p>
          ) : (
            <table class="table" data-testid="disclosures">
              <caption class="visually-hidden">{t('release.disclosures')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('release.when')}</th>
                  <th scope="col">{t('release.who')}</th>
                  <th scope="col">{t('release.what')}</th>
                  <th scope="col">{t('release.basis')}</th>
                </tr>
              </thead>
              <tbody>
                {state.disclosures.map((d) => (
                  <tr key={d.seq}>
                    <td>{formatDateTime(d.time)}</td>
                    <td>{state.agencies.find((a) => a.id === d.agency_id)?.name ?? d.agency_id}</td>
                    <td>{d.categories.map((c) => t(`category.${c}`)).join(', ')}</td>
                    <td>{label('release.basisCode', d.basis)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
