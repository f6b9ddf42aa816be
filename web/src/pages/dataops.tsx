// Import and export (HTCDS 2.0 CSV) as background jobs with a progress bar; supervisors only
// (policy::CanRunBulkJobs). The import is all-or-nothing: a bad file names row, column and value
// and imports nothing. The export is produced in the server's memory and can be downloaded once.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, opsApi, type Job } from '../api';
import { ErrorNote, usePageTitle } from '../components/common';
import { formatDateTime, formatNumber, t, useLang } from '../i18n';
import { getSession } from '../session';
import { NotAllowed } from './notfound';

function finished(j: Job): boolean {
  return j.state === 'done' || j.state === 'failed' || j.state === 'cancelled';
}

/** Polls a job until it has finished. */
function useJob(initial: Job | null): [Job | null, (j: Job | null) => void] {
  const [job, setJob] = useState<Job | null>(initial);
  const current = useRef<string | null>(null);
  const polls = useRef(0);
  useEffect(() => {
    if (!job || finished(job)) return;
    if (current.current !== job.id) polls.current = 0;
    current.current = job.id;
    polls.current += 1;
    const timer = setTimeout(async () => {
      try {
        const next = await opsApi.job(job.id);
        if (current.current === next.id) setJob(next);
      } catch {
        if (current.current === job.id) setJob({ ...job, state: 'failed', error: { code: 'network', message: t('common.error') } });
      }
    }, Math.min(1000, 150 + 50 * polls.current));  // every poll is audited: back off to 1 s
    return () => clearTimeout(timer);
  }, [job]);
  return [job, (j) => {
    current.current = j?.id ?? null;
    setJob(j);
  }];
}

function JobProgress({ job, label }: { job: Job; label: string }) {
  const known = job.total > 0;
  const pct = known ? Math.round((job.done / job.total) * 100) : 0;
  const text = job.state === 'queued'
    ? t('jobs.queued')
    : known
      ? t('jobs.progress', { done: formatNumber(job.done), total: formatNumber(job.total), pct })
      : job.kind === 'export_htcds' && job.bytes_written
        ? t('jobs.writing', { size: formatNumber(Math.round(job.bytes_written / 1024)) })
        : t(job.kind === 'export_htcds' ? 'jobs.preparing' : 'jobs.working');
  return <ProgressBar label={label} known={known} done={job.done} total={job.total} pct={pct} text={text} />;
}

function ProgressBar({ label, known, done, total, pct, text }:
  { label: string; known: boolean; done: number; total: number; pct: number; text: string }) {
  return (
    <div data-testid="job-progress">
      {/* The bar's width is set through the CSSOM (allowed by the CSP), never a style attribute. */}
      <div class={`job-progress${known ? '' : ' indeterminate'}`} role="progressbar" aria-label={label} aria-valuemin={0}
        aria-valuemax={known ? total : undefined} aria-valuenow={known ? done : undefined} aria-valuetext={text}>
        <div class="job-progress-bar" style={{ width: known ? `${pct}%` : '30%' }}></div>
      </div>
      <p class="muted" aria-live="polite">{text}</p>
    </div>
  );
}

/** "row 4, column 2 (prs_Gender): must be one of ..." -> plain words in the chosen language. */
export function importErrorText(message: string): string {
  const m = /^row (\d+), column (\d+) \(([^)]+)\): (.*)$/s.exec(message);
  if (m) return t('jobs.errorAt', { row: m[1], column: m[2], name: t(`field.${m[3]}`) === `field.${m[3]}` ? m[3] : `${t(`field.${m[3]}`)} (${m[3]})`, message: m[4] });
  const r = /^row (\d+): (.*)$/s.exec(message);
  if (r) return t('jobs.errorRow', { row: r[1], message: r[2] });
  return message;
}

function Cancel({ job, onChange }: { job: Job; onChange: (j: Job) => void }) {
  const [error, setError] = useState<string | null>(null);
  if (finished(job)) return null;
  const cancel = async () => {
    try {
      onChange(await opsApi.cancelJob(job.id));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? t('jobs.tooLate') : t('common.error'));
    }
  };
  return (
    <>
      <button class="button small" type="button" onClick={cancel}>{t('jobs.cancel')}</button>
      {error && <p class="muted" role="status">{error}</p>}
    </>
  );
}

function ImportSection() {
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [job, setJob] = useJob(null);
  const [upload, setUpload] = useState<{ sent: number; total: number } | null>(null);
  const busy = !!upload || (!!job && !finished(job));
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setJob(null);
    if (!file) {
      setError(t('jobs.chooseFile'));
      return;
    }
    setUpload({ sent: 0, total: file.size });
    try {
      const started = await opsApi.startImport(file, (sent, total) => setUpload({ sent, total }));
      setUpload(null);
      setJob(started);
    } catch (err) {
      setUpload(null);
      setError(err instanceof ApiError && err.status === 413 ? t('jobs.tooLarge')
        : err instanceof ApiError && err.status === 429 ? t('jobs.busy')
        : err instanceof ApiError && err.status === 400 ? err.message : t('common.error'));
    }
  };
  return (
    <section class="card" aria-labelledby="import-h" data-testid="import">
      <h2 id="import-h">{t('jobs.importHeading')}</h2>
      <p>{t('jobs.importIntro')}</p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="import-file">{t('jobs.file')}</label>
          <p class="hint" id="import-file-hint">{t('jobs.fileHint')}</p>
          <input id="import-file" type="file" accept=".csv,text/csv" aria-describedby="import-file-hint"
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        <div class="row-actions">
          <button class="button primary" type="submit" disabled={busy}>{t('jobs.import')}</button>
          {job && <Cancel job={job} onChange={setJob} />}
        </div>
      </form>
      {error && <ErrorNote>{error}</ErrorNote>}
      {upload && (
        <ProgressBar label={t('jobs.uploadProgress')} known={upload.total > 0} done={upload.sent} total={upload.total}
          pct={upload.total > 0 ? Math.round((upload.sent / upload.total) * 100) : 0}
          text={t('jobs.uploading', { pct: upload.total > 0 ? Math.round((upload.sent / upload.total) * 100) : 0 })} />
      )}
      {job && <JobProgress job={job} label={t('jobs.importProgress')} />}
      {job?.state === 'done' && job.result && (
        <div class="notice notice-info" role="status" data-testid="import-done">
          {t('jobs.imported', { survivors: formatNumber(job.result.survivors ?? 0), cases: formatNumber(job.result.cases ?? 0) })}
        </div>
      )}
      {job?.state === 'failed' && (
        <div class="notice notice-error" role="alert" data-testid="import-error">
          <p><strong>{t('jobs.importFailed')}</strong></p>
          <p>{importErrorText(job.error?.message ?? '')}</p>
        </div>
      )}
      {job?.state === 'cancelled' && <p role="status">{t('jobs.cancelled')}</p>}
    </section>
  );
}

function ExportSection() {
  const [identifying, setIdentifying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [job, setJob] = useJob(null);
  const [taken, setTaken] = useState(false);
  const busy = !!job && !finished(job);
  const start = async () => {
    setError(null);
    setTaken(false);
    try {
      setJob(await opsApi.startExport(identifying));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? t('jobs.busy') : t('common.error'));
    }
  };
  return (
    <section class="card" aria-labelledby="export-h" data-testid="export">
      <h2 id="export-h">{t('jobs.exportHeading')}</h2>
      <p>{t('jobs.exportIntro')}</p>
      <label class="check">
        <input type="checkbox" checked={identifying} onChange={() => setIdentifying(!identifying)} /> {t('jobs.identifying')}
      </label>
      <p class="hint">{t('jobs.identifyingHint')}</p>
      <div class="row-actions">
        <button class="button primary" type="button" onClick={start} disabled={busy}>{t('jobs.export')}</button>
        {job && <Cancel job={job} onChange={setJob} />}
      </div>
      {error && <ErrorNote>{error}</ErrorNote>}
      {job && <JobProgress job={job} label={t('jobs.exportProgress')} />}
      {job?.state === 'done' && (
        <div class="notice notice-info" role="status" data-testid="export-done">
          <p>{t('jobs.exported', { rows: formatNumber(job.result?.rows ?? 0) })}</p>
          {job.file_available && !taken ? (
            <>
              <p>{t('jobs.downloadOnce', { time: job.file_expires_at ? formatDateTime(job.file_expires_at) : '' })}</p>
              <a class="button primary" href={opsApi.jobFileUrl(job.id)} download="htcds-export.csv" onClick={() => setTimeout(() => setTaken(true), 0)}>
                {t('jobs.download')}
              </a>
            </>
          ) : (
            <p>{t('jobs.fileGone')}</p>
          )}
        </div>
      )}
      {job?.state === 'failed' && <ErrorNote>{t('jobs.exportFailed')}</ErrorNote>}
      {job?.state === 'cancelled' && <p role="status">{t('jobs.cancelled')}</p>}
    </section>
  );
}

export function DataOpsPage() {
  useLang();  // re-render on a language switch (the router does not)
  usePageTitle('title.dataops');
  const user = getSession()!.user;
  if (user.role !== 'supervisor') return <NotAllowed />;
  return (
    <>
      <h1>{t('jobs.heading')}</h1>
      <ImportSection />
      <ExportSection />
    </>
  );
}
