import { useState } from 'preact/hooks';
import { api, ApiError, type AuditEntry } from '../api';
import { EmptyState, ErrorNote, Loading, useAsyncEffect, usePageTitle } from '../components/common';
import { formatDateTime, formatNumber, has, t } from '../i18n';
import { can, getSession } from '../session';
import { NotAllowed } from './notfound';

const PAGE = 50;

export function AuditPage() {
  usePageTitle('title.audit');
  const user = getSession()!.user;
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [before, setBefore] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<'unavailable' | 'forbidden' | 'error' | null>(null);
  const [names, setNames] = useState<Map<string, string>>(new Map());

  async function load(from: number | null, sig?: { cancelled: boolean }) {
    setLoading(true);
    setProblem(null);
    try {
      const page = await api.audit({ limit: PAGE, before: from ?? undefined });
      if (sig?.cancelled) return;
      setItems((old) => (from !== null ? [...old, ...page.items] : page.items));
      setBefore(page.next_before ?? null);
    } catch (e) {
      if (sig?.cancelled) return;
      if (e instanceof ApiError && e.status === 404) setProblem('unavailable');
      else if (e instanceof ApiError && e.status === 403) setProblem('forbidden');
      else setProblem('error');
    } finally {
      if (!sig?.cancelled) setLoading(false);
    }
  }

  useAsyncEffect(async (sig) => {
    if (!can.readAudit(user)) return;
    await load(null, sig);
    try {
      const users = await api.users();
      if (!sig.cancelled) setNames(new Map(users.map((u) => [u.id, u.username])));
    } catch {
      /* ids are shown instead */
    }
  }, []);

  if (!can.readAudit(user)) return <NotAllowed />;
  return (
    <>
      <div class="page-head">
        <div>
          <h1>{t('audit.heading')}</h1>
          <p class="muted">{t('audit.intro')}</p>
        </div>
      </div>
      {problem === 'unavailable' && (
        <div class="notice notice-info" data-testid="audit-unavailable">
          {t('audit.unavailable')}
        </div>
      )}
      {problem === 'forbidden' && <ErrorNote>{t('audit.forbidden')}</ErrorNote>}
      {problem === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="audit-table">
            <caption class="visually-hidden">{t('audit.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.seq')}</th>
                <th scope="col">{t('audit.time')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.outcome')}</th>
                <th scope="col">{t('audit.target')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.seq}>
                  <td class="num">{formatNumber(e.seq)}</td>
                  <td>{formatDateTime(e.time)}</td>
                  <td class="mono">{names.get(e.actor) ?? e.actor}</td>
                  <td class="mono">{e.action}</td>
                  <td>
                    <span class={`badge badge-outcome-${e.outcome === 'deny' || e.outcome === 'error' ? 'bad' : 'good'}`}>
                      {has(`audit.outcome.${e.outcome}`) ? t(`audit.outcome.${e.outcome}`) : e.outcome}
                    </span>
                  </td>
                  <td class="mono">{e.target || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!loading && !problem && items.length === 0 && <EmptyState>{t('audit.empty')}</EmptyState>}
      {loading && <Loading />}
      {before !== null && !loading && (
        <div class="list-foot">
          <button type="button" class="button" onClick={() => void load(before)}>
            {t('audit.older')}
          </button>
        </div>
      )}
    </>
  );
}
