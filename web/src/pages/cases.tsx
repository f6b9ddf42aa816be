import { useState } from 'preact/hooks';
import { api, type RecordView } from '../api';
import { CaseTable } from '../components/casetable';
import { EmptyState, ErrorNote, Loading, useAsyncEffect, usePageTitle } from '../components/common';
import { formatNumber, t, valueLabel } from '../i18n';
import { can, getSession } from '../session';
import { NotAllowed } from './notfound';

const STATUSES = ['Active', 'FollowUp', 'Closed', 'ClosedReferred'];
const PAGE = 25;

export function CasesPage() {
  usePageTitle('title.cases');
  const user = getSession()!.user;
  const [status, setStatus] = useState('');
  const [mine, setMine] = useState(false);
  const [items, setItems] = useState<RecordView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(false);

  async function load(after: string | null, sig?: { cancelled: boolean }) {
    setLoading(true);
    setError(false);
    try {
      const page = await api.cases({ limit: PAGE, cursor: after ?? undefined, status: status || undefined, mine });
      if (sig?.cancelled) return;
      setItems((old) => (after ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor ?? null);
    } catch {
      if (!sig?.cancelled) setError(true);
    } finally {
      if (!sig?.cancelled) setLoading(false);
    }
  }

  useAsyncEffect((sig) => load(null, sig), [status, mine]);

  if (!can.workCases(user)) return <NotAllowed />;
  return (
    <>
      <div class="page-head">
        <h1>{t('cases.heading')}</h1>
      </div>
      <div class="filters" role="search">
        <div class="field inline">
          <label for="filter-status">{t('cases.filterStatus')}</label>
          <select id="filter-status" value={status} onChange={(e) => {
            setLoading(true);
            setStatus((e.currentTarget as HTMLSelectElement).value);
          }}>
            <option value="">{t('cases.filterAny')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {valueLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="field field-check inline">
          <input id="filter-mine" type="checkbox" checked={mine} onChange={(e) => {
            setLoading(true);
            setMine((e.currentTarget as HTMLInputElement).checked);
          }} />
          <label for="filter-mine">{t('cases.filterMine')}</label>
        </div>
      </div>
      {error && <ErrorNote>{t('common.error')}</ErrorNote>}
      {items.length > 0 && <CaseTable items={items} caption={t('cases.caption')} />}
      {!loading && !error && items.length === 0 && <EmptyState>{t('cases.empty')}</EmptyState>}
      {loading && <Loading />}
      <div class="list-foot">
        {items.length > 0 && <span class="muted">{t('common.count', { count: formatNumber(items.length) })}</span>}
        {cursor && !loading && (
          <button type="button" class="button" onClick={() => void load(cursor)}>
            {t('common.loadMore')}
          </button>
        )}
      </div>
    </>
  );
}
