// Evidence items of a survivor (docs/consent.md, "Evidence items"): documents, photos,
// recordings and statements, each with an optional file. The survivor's agency adds and
// downloads them; a partner agency sees exactly the items a release in force names.
import { useState } from 'preact/hooks';
import { api, ApiError, type Grant, type RecordView } from '../api';
import { ACCEPT, EVIDENCE_KINDS, evidenceApi, MAX_FILE_BYTES, type EvidenceItem } from '../evidence-api';
import { formatDate, formatDateTime, has, t } from '../i18n';
import { getSession, can } from '../session';
import { EmptyState, ErrorNote, Loading, useAsyncEffect } from './common';

export function kindLabel(kind: string): string {
  return has(`evidence.kind.${kind}`) ? t(`evidence.kind.${kind}`) : kind;
}

function sizeLabel(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

export function DownloadButton({ id, label }: { id: string; label?: string }) {
  const [error, setError] = useState(false);
  return (
    <>
      <button class="button" type="button" data-testid={`download-${id}`}
        onClick={() => evidenceApi.download(id).then(() => setError(false), () => setError(true))}>
        {label ?? t('evidence.download')}
      </button>
      {error && <ErrorNote>{t('evidence.downloadFailed')}</ErrorNote>}
    </>
  );
}

function EvidenceForm({ survivorId, onDone }: { survivorId: string; onDone: () => void }) {
  const legal = can.legalTeam(getSession()!.user);
  const kinds = EVIDENCE_KINDS.filter((k) => k !== 'attorney_notes' || legal);
  const [title, setTitle] = useState('');
  const [kind, setKind] = useState(kinds[0]);
  const [date, setDate] = useState('');
  const [description, setDescription] = useState('');
  const [caseId, setCaseId] = useState('');
  const [cases, setCases] = useState<RecordView[]>([]);
  useAsyncEffect(async (signal) => {
    try {
      const page = await api.cases({ survivor_id: survivorId, limit: 50 });
      if (!signal.cancelled) setCases(page.items);
    } catch {
      /* the item can still belong to the survivor as a whole */
    }
  }, [survivorId]);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Saved, but its file was refused: a second try only sends a file (no duplicate item).
  const [savedId, setSavedId] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (file && file.size > MAX_FILE_BYTES) {
      setError(t('evidence.tooLarge'));
      return;
    }
    setBusy(true);
    try {
      const id = savedId ?? (await evidenceApi.create(survivorId, { title, kind, description, date, ...(caseId ? { case_id: caseId } : {}) })).id;
      setSavedId(id);
      if (file) {
        try {
          await evidenceApi.upload(id, file);
        } catch (err) {
          // The item is saved; its file was refused: say why, the list shows the item without a file.
          setError(err instanceof ApiError && err.status === 413 ? t('evidence.tooLarge') : t('evidence.badFile'));
          setBusy(false);
          return;
        }
      }
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? (err.field ? `${t(`evidence.field.${err.field}`)}: ${err.message}` : err.message) : t('common.error'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="release-form" onSubmit={submit} data-testid="evidence-form" aria-busy={busy}>
      <h3>{t('evidence.new')}</h3>
      {error && <ErrorNote>{error}</ErrorNote>}
      <label for="ev-title">{t('evidence.field.title')}</label>
      <input id="ev-title" required maxLength={200} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      <label for="ev-kind">{t('evidence.field.kind')}</label>
      <select id="ev-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
        {kinds.map((k) => (
          <option key={k} value={k}>{kindLabel(k)}</option>
        ))}
      </select>
      {cases.length > 0 && (
        <>
          <label for="ev-case">{t('evidence.field.case_id')}</label>
          <select id="ev-case" value={caseId} onChange={(e) => setCaseId((e.target as HTMLSelectElement).value)}>
            <option value="">{t('evidence.wholeSurvivor')}</option>
            {cases.map((c) => (
              <option key={c.id} value={c.id}>{t('evidence.caseOption', { number: c.case_number ?? c.id })}</option>
            ))}
          </select>
        </>
      )}
      <label for="ev-date">{t('evidence.field.date')}</label>
      <input id="ev-date" type="date" value={date} onInput={(e) => setDate((e.target as HTMLInputElement).value)} />
      <label for="ev-description">{t('evidence.field.description')}</label>
      <textarea id="ev-description" rows={3} maxLength={5000} value={description}
        onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} />
      <label for="ev-file">{t('evidence.field.content')}</label>
      <input id="ev-file" type="file" accept={ACCEPT} aria-describedby="ev-file-hint"
        onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
      <p class="muted" id="ev-file-hint">{t('evidence.fileHint')}</p>
      <button class="primary" type="submit" disabled={busy}>{t('evidence.save')}</button>
    </form>
  );
}

function EvidenceList({ items }: { items: EvidenceItem[] }) {
  return (
    <ul class="release-list" data-testid="evidence-list">
      {items.map((e) => (
        <li class="release" key={e.id} data-testid={`evidence-${e.id}`}>
          <div>
            <strong>{e.title}</strong> <span class="badge">{kindLabel(e.kind)}</span>
          </div>
          {e.description && <div>{e.description}</div>}
          <div class="muted">
            {e.date ? formatDate(e.date) : formatDateTime(e.created_at)}
            {e.file ? ` · ${sizeLabel(e.file.size)}` : ` · ${t('evidence.noFile')}`}
          </div>
          {e.case_id && (
            <div>
              <a href={`/cases/${encodeURIComponent(e.case_id)}`}>{t('evidence.openCase')}</a>
            </div>
          )}
          {e.file && (
            <div class="release-actions">
              <DownloadButton id={e.id} />
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The Evidence section of the survivor page; `canAdd` for the survivor's own agency. */
export function EvidencePanel({ survivorId, canAdd }: { survivorId: string; canAdd: boolean }) {
  const [state, setState] = useState<{ s: 'loading' } | { s: 'ok'; items: EvidenceItem[] } | { s: 'error' }>({ s: 'loading' });
  const [tick, setTick] = useState(0);
  const [adding, setAdding] = useState(false);
  useAsyncEffect(async (signal) => {
    try {
      const items = await evidenceApi.list(survivorId);
      if (!signal.cancelled) setState({ s: 'ok', items });
    } catch (err) {
      // Nothing shared (a partner agency): the same as an empty list.
      if (!signal.cancelled) setState(err instanceof ApiError && err.status === 404 ? { s: 'ok', items: [] } : { s: 'error' });
    }
  }, [survivorId, tick]);
  const reload = () => {
    setAdding(false);
    setTick(tick + 1);
  };
  return (
    <section class="card releases" aria-labelledby="sec-evidence" data-testid="section-evidence">
      <div class="section-head">
        <h2 id="sec-evidence">{t('evidence.title')}</h2>
        {canAdd && state.s === 'ok' && !adding && (
          <button class="button" type="button" onClick={() => setAdding(true)}>{t('evidence.add')}</button>
        )}
      </div>
      <p class="muted">{t(canAdd ? 'evidence.explain' : 'evidence.explainShared')}</p>
      {state.s === 'loading' && <Loading />}
      {state.s === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {state.s === 'ok' && (
        <>
          {adding && <EvidenceForm survivorId={survivorId} onDone={reload} />}
          {state.items.length === 0 ? <EmptyState>{t('evidence.none')}</EmptyState> : <EvidenceList items={state.items} />}
        </>
      )}
    </section>
  );
}

/** Partner view (home page of law enforcement): the evidence items releases name for this agency. */
export function SharedEvidence() {
  const [state, setState] = useState<{ s: 'loading' } | { s: 'ok'; items: EvidenceItem[] } | { s: 'error' }>({ s: 'loading' });
  const [tick, setTick] = useState(0);
  useAsyncEffect(async (signal) => {
    try {
      const grants: Grant[] = await evidenceApi.shared();
      const survivors = [...new Set(grants.filter((g) => (g.evidence_ids ?? []).length > 0).map((g) => g.survivor_id))];
      const lists = await Promise.all(survivors.map((id) => evidenceApi.list(id).catch(() => [] as EvidenceItem[])));
      if (!signal.cancelled) setState({ s: 'ok', items: lists.flat() });
    } catch {
      if (!signal.cancelled) setState({ s: 'error' });
    }
  }, [tick]);
  return (
    <section class="card" aria-labelledby="shared-evidence-h" data-testid="shared-evidence">
      <div class="section-head">
        <h2 id="shared-evidence-h">{t('evidence.sharedHeading')}</h2>
        <button class="button" type="button" onClick={() => setTick(tick + 1)} data-testid="shared-evidence-refresh">
          {t('shared.refresh')}
        </button>
      </div>
      <p class="hint">{t('evidence.explainShared')}</p>
      {state.s === 'loading' && <Loading />}
      {state.s === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {state.s === 'ok' &&
        (state.items.length ? <EvidenceList items={state.items} /> : <EmptyState>{t('evidence.sharedNone')}</EmptyState>)}
    </section>
  );
}
