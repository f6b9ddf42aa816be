import { useLocation, useRoute } from 'preact-iso';
import { api, type FieldSpec, type RecordView } from '../api';
import { StatusBadge } from '../components/casetable';
import { ErrorNote, usePageTitle } from '../components/common';
import { CASE_SECTIONS, FieldList, groupByCategory } from '../components/fieldview';
import { RecordEditPage } from '../components/recordedit';
import { RecordForm } from '../components/recordform';
import { ScreeningPanel } from '../components/screening';
import { formatDateTime, t } from '../i18n';
import { can, fieldsOf, getSession, type Session } from '../session';
import { NotAllowed } from './notfound';
import { RecordStateNote, useRecord } from '../components/record';

/**
 * Privileged fields (attorney work product) appear only where the API returns them, or, empty,
 * to the legal team who may add them; to anyone else they are not even mentioned.
 */
// The screening facts and summary are machine-readable: the screening section shows them.
const SCREENING_FIELDS = ['trl_ReliefFacts', 'trl_ScreeningSummary'];

function visibleCaseFields(session: Session, record: RecordView, forEdit = false): FieldSpec[] {
  return fieldsOf(session, 'case').filter(
    (f) =>
      (forEdit || !SCREENING_FIELDS.includes(f.name)) &&
      (f.sensitivity !== 'privileged' ||
      (!record.redacted.includes(f.name) && (f.name in record.fields || can.legalTeam(session.user)))),
  );
}

export function CasePage() {
  usePageTitle('title.case');
  const { params } = useRoute();
  const session = getSession()!;
  const [s] = useRecord('case', params.id);
  if (!can.workCases(session.user) && !can.seeShared(session.user)) return <NotAllowed />;
  return (
    <>
      <div class="page-head">
        <div>
          <p class="eyebrow">{t('title.case')}</p>
          <h1 data-testid="case-heading">
            {s.state === 'ok' ? t('case.heading', { number: s.record.case_number ?? '' }) : t('title.case')}
          </h1>
          {s.state === 'ok' && (
            <p class="muted">
              <StatusBadge status={s.record.fields.cas_Status} />{' '}
              {t('case.recordInfo', { created: formatDateTime(s.record.created_at), updated: formatDateTime(s.record.updated_at) })}
            </p>
          )}
        </div>
        {s.state === 'ok' && (
          <div class="page-actions">
            <a class="button" href={`/survivors/${encodeURIComponent(s.record.survivor_id ?? '')}`}>
              {t('case.openSurvivor')}
            </a>
            {can.workCases(session.user) && (
              <a class="button primary" href={`/cases/${encodeURIComponent(s.record.id)}/edit`}>
                {t('common.edit')}
              </a>
            )}
          </div>
        )}
      </div>
      <RecordStateNote s={s} />
      {s.state === 'ok' && (
        <div class="sections">
          {groupByCategory(visibleCaseFields(session, s.record), CASE_SECTIONS).map(([cat, specs]) => (
            <section class={`card${cat === 'legal_work_product' ? ' card-privileged' : ''}`} key={cat} aria-labelledby={`sec-${cat}`} data-testid={`section-${cat}`}>
              <h2 id={`sec-${cat}`}>{t(`category.${cat}`)}</h2>
              <FieldList record={s.record} specs={specs} />
            </section>
          ))}
          {!s.record.redacted.includes('trl_ReliefFacts') && can.workCases(session.user) && (
            <ScreeningPanel caseId={s.record.id} version={s.record.version} />
          )}
        </div>
      )}
    </>
  );
}

export function CaseNewPage() {
  usePageTitle('title.caseNew');
  const { route, query } = useLocation();
  const session = getSession()!;
  if (!can.workCases(session.user)) return <NotAllowed />;
  const survivorId = query.survivor ?? '';
  const specs = fieldsOf(session, 'case').filter((f) => f.sensitivity !== 'privileged' || can.legalTeam(session.user));
  return (
    <>
      <h1>{t('title.caseNew')}</h1>
      {!survivorId ? (
        <ErrorNote>{t('common.notFound')}</ErrorNote>
      ) : (
        <RecordForm
          specs={specs}
          sections={CASE_SECTIONS}
          onSave={async (fields) => {
            const r = await api.createCase(survivorId, fields as Record<string, never>);
            route(`/cases/${encodeURIComponent(r.id)}`, true);
          }}
          onCancel={() => history.back()}
        />
      )}
    </>
  );
}

export function CaseEditPage() {
  return <RecordEditPage kind="case" sections={CASE_SECTIONS} specsOf={(session, record) => visibleCaseFields(session, record, true)} />;
}
