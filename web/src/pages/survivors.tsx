import { useState } from 'preact/hooks';
import { api, type RecordView } from '../api';
import { EmptyState, ErrorNote, Loading, useAsyncEffect, usePageTitle, Withheld } from '../components/common';
import { countryName, formatDateTime, formatNumber, t, valueLabel } from '../i18n';
import { can, getSession } from '../session';
import { NotAllowed } from './notfound';

const PAGE = 25;

export function survivorName(r: RecordView): string | null {
  const parts = ['prs_FirstName', 'prs_MiddleName', 'prs_SecondName']
    .map((f) => r.fields[f])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
  return parts.length ? parts.join(' ') : null;
}

export function SurvivorName({ r }: { r: RecordView }) {
  const name = survivorName(r);
  if (name) return <>{name}</>;
  if (r.redacted.includes('prs_FirstName')) return <Withheld />;
  return <span class="muted">{t('survivors.noName')}</span>;
}

export function SurvivorsPage() {
  usePageTitle('title.survivors');
  const user = getSession()!.user;
  const [items, setItems] = useState<RecordView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(false);

  async function load(after: string | null, sig?: { cancelled: boolean }) {
    setLoading(true);
    setError(false);
    try {
      const page = await api.survivors({ limit: PAGE, cursor: after ?? undefined });
      if (sig?.cancelled) return;
      setItems((old) => (after ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor ?? null);
    } catch {
      if (!sig?.cancelled) setError(true);
    } finally {
      if (!sig?.cancelled) setLoading(false);
    }
  }
  useAsyncEffect((sig) => load(null, sig), []);

  if (!can.workCases(user)) return <NotAllowed />;
  return (
    <>
      <div class="page-head">
        <h1>{t('survivors.heading')}</h1>
        <div class="page-actions">
          <a class="button primary" href="/survivors/new">
            {t('survivors.new')}
          </a>
        </div>
      </div>
      {error && <ErrorNote>{t('common.error')}</ErrorNote>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="survivor-table">
            <caption class="visually-hidden">{t('survivors.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('survivors.name')}</th>
                <th scope="col">{t('field.prs_Gender')}</th>
                <th scope="col">{t('field.prs_Citizenship')}</th>
                <th scope="col">{t('survivors.added')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => {
                const g = s.fields.prs_Gender;
                const c = s.fields.prs_Citizenship;
                return (
                  <tr key={s.id}>
                    <th scope="row">
                      <a href={`/survivors/${encodeURIComponent(s.id)}`}>
                        <SurvivorName r={s} />
                      </a>
                    </th>
                    <td>{typeof g === 'string' ? valueLabel(g) : '—'}</td>
                    <td>{Array.isArray(c) && c.length ? c.map(countryName).join(', ') : '—'}</td>
                    <td>{formatDateTime(s.created_at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {!loading && !error && items.length === 0 && <EmptyState>{t('survivors.empty')}</EmptyState>}
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
