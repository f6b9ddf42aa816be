import type { RecordView } from '../api';
import { formatDate, formatDateTime, t, valueLabel } from '../i18n';

export function StatusBadge({ status }: { status?: unknown }) {
  if (typeof status !== 'string' || !status) return <span class="muted">{t('common.notRecorded')}</span>;
  return <span class={`badge badge-${status.toLowerCase()}`}>{valueLabel(status)}</span>;
}

export function CaseTable({ items, caption, compact }: { items: RecordView[]; caption: string; compact?: boolean }) {
  return (
    <div class="table-wrap">
      <table class="table" data-testid="case-table">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('cases.number')}</th>
            <th scope="col">{t('cases.status')}</th>
            <th scope="col">{t('cases.referral')}</th>
            {!compact && <th scope="col">{t('cases.updated')}</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((c) => {
            const referral = c.fields.cas_IncomingReferralDate;
            return (
              <tr key={c.id}>
                <th scope="row">
                  <a href={`/cases/${encodeURIComponent(c.id)}`} class="mono">
                    {c.case_number}
                  </a>
                </th>
                <td>
                  <StatusBadge status={c.fields.cas_Status} />
                </td>
                <td class="date">{typeof referral === 'string' ? formatDate(referral) : <span class="muted">—</span>}</td>
                {!compact && <td class="date">{formatDateTime(c.updated_at)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
