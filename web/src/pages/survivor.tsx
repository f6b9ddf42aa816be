import { useLocation, useRoute } from 'preact-iso';
import { useState } from 'preact/hooks';
import { api, type RecordView } from '../api';
import { CaseTable } from '../components/casetable';
import { EmptyState, ErrorNote, Loading, useAsyncEffect, usePageTitle } from '../components/common';
import { FieldList, groupByCategory, SURVIVOR_SECTIONS } from '../components/fieldview';
import { RecordEditPage } from '../components/recordedit';
import { RecordStateNote, useRecord } from '../components/record';
import { RecordForm } from '../components/recordform';
import { formatDateTime, t } from '../i18n';
import { can, fieldsOf, getSession } from '../session';
import { ReleasesPanel } from '../components/releases';
import { EvidencePanel } from '../components/evidence';
import { ErasePanel } from '../components/erase';
import { NotAllowed } from './notfound';
import { SurvivorName } from './survivors';
import { canRecordCompelled } from './compelled';
import { EmergencyBanner, EmergencyLink } from './emergency';

function SurvivorCases({ survivorId }: { survivorId: string }) {
  const [items, setItems] = useState<RecordView[] | null>(null);
  const [error, setError] = useState(false);
  useAsyncEffect(
    async (sig) => {
      try {
        const p = await api.cases({ survivor_id: survivorId, limit: 50 });
        if (!sig.cancelled) setItems(p.items);
      } catch {
        if (!sig.cancelled) setError(true);
      }
    },
    [survivorId],
  );
  return (
    <section class="card" aria-labelledby="survivor-cases">
      <div class="section-head">
        <h2 id="survivor-cases">{t('survivor.cases')}</h2>
        <a class="button small" href={`/cases/new?survivor=${encodeURIComponent(survivorId)}`}>
          {t('survivor.newCase')}
        </a>
      </div>
      {error && <ErrorNote>{t('common.error')}</ErrorNote>}
      {!items && !error && <Loading />}
      {items && (items.length ? <CaseTable items={items} caption={t('survivor.cases')} /> : <EmptyState>{t('survivor.casesEmpty')}</EmptyState>)}
    </section>
  );
}

export function SurvivorPage() {
  usePageTitle('title.survivor');
  const { params } = useRoute();
  const session = getSession()!;
  const [s] = useRecord('survivor', params.id);
  // Law enforcement reads what a release shares with its agency; case roles work the record.
  const works = can.workCases(session.user);
  // Another agency's record (opened in an emergency or under a release): read only.
  const own = s.state === 'ok' && s.record.agency_id === session.user.agency_id;
  const [erased, setErased] = useState(false);
  if (!works && !can.seeShared(session.user)) return <NotAllowed />;
  if (erased) {
    return (
      <>
        <h1>{t('erase.doneHeading')}</h1>
        <p role="status" data-testid="erased">{t('erase.done')}</p>
        <p>
          <a href="/survivors">{t('erase.backToList')}</a>
        </p>
      </>
    );
  }
  return (
    <>
      <div class="page-head">
        <div>
          <p class="eyebrow">{t('survivor.heading')}</p>
          <h1 data-testid="survivor-name">{s.state === 'ok' ? <SurvivorName r={s.record} /> : t('title.survivor')}</h1>
          {s.state === 'ok' && (
            <p class="muted">
              {t('survivor.recordInfo', { created: formatDateTime(s.record.created_at), updated: formatDateTime(s.record.updated_at) })}
            </p>
          )}
        </div>
        {s.state === 'ok' && works && own && (
          <div class="page-actions">
            <a class="button" href={`/survivors/${encodeURIComponent(s.record.id)}/edit`}>
              {t('common.edit')}
            </a>
            {canRecordCompelled() && (
              <a class="button" href={`/survivors/${encodeURIComponent(s.record.id)}/compelled`} data-testid="compelled-link">
                {t('compelled.link')}
              </a>
            )}
          </div>
        )}
      </div>
      <EmergencyBanner survivorId={params.id} />
      <RecordStateNote s={s} />
      {(s.state === 'missing' || (s.state === 'ok' && s.record.redacted.length > 0)) && (
        <p class="hint">
          {t('emergency.recordHint')} <EmergencyLink survivorId={params.id} />
        </p>
      )}
      {s.state === 'ok' && (
        <>
          <div class="sections">
            {groupByCategory(
              // A partner agency sees only what was released to it: no empty sections for the rest.
              fieldsOf(session, 'survivor').filter((f) => (works && own) || f.name in s.record.fields),
              SURVIVOR_SECTIONS,
            ).map(([cat, specs]) => (
              <section class="card" key={cat} aria-labelledby={`sec-${cat}`} data-testid={`section-${cat}`}>
                <h2 id={`sec-${cat}`}>{t(`category.${cat}`)}</h2>
                <FieldList record={s.record} specs={specs} />
              </section>
            ))}
          </div>
          {works && own && <SurvivorCases survivorId={s.record.id} />}
          <EvidencePanel survivorId={s.record.id} canAdd={works && own} />
          {works && own && <ReleasesPanel survivorId={s.record.id} />}
          {own && session.user.role === 'supervisor' && (
            <ErasePanel survivorId={s.record.id} onErased={() => setErased(true)} />
          )}
        </>
      )}
    </>
  );
}

export function SurvivorNewPage() {
  usePageTitle('title.survivorNew');
  const { route } = useLocation();
  const session = getSession()!;
  if (!can.workCases(session.user)) return <NotAllowed />;
  return (
    <>
      <h1>{t('title.survivorNew')}</h1>
      <RecordForm
        specs={fieldsOf(session, 'survivor')}
        sections={SURVIVOR_SECTIONS}
        onSave={async (fields) => {
          const r = await api.createSurvivor(fields as Record<string, never>);
          route(`/survivors/${encodeURIComponent(r.id)}`);
        }}
        onCancel={() => history.back()}
      />
    </>
  );
}

export function SurvivorEditPage() {
  return <RecordEditPage kind="survivor" sections={SURVIVOR_SECTIONS} specsOf={(session) => fieldsOf(session, 'survivor')} />;
}
