// Editing a survivor or a case: the same page for both (load, form, 409 reload, back).
import { useLocation, useRoute } from 'preact-iso';
import { api, type FieldSpec, type RecordView } from '../api';
import { t } from '../i18n';
import { NotAllowed } from '../pages/notfound';
import { RecordStateNote, useRecord } from './record';
import { can, getSession, type Session } from '../session';
import { usePageTitle } from './common';
import { RecordForm } from './recordform';

export interface RecordEditProps {
  kind: 'survivor' | 'case';
  sections: string[];
  /** The fields this person may edit on this record. */
  specsOf: (session: Session, record: RecordView) => FieldSpec[];
}

export function RecordEditPage({ kind, sections, specsOf }: RecordEditProps) {
  usePageTitle(kind === 'case' ? 'title.caseEdit' : 'title.survivorEdit');
  const { params } = useRoute();
  const { route } = useLocation();
  const session = getSession()!;
  const [s, reload] = useRecord(kind, params.id);
  if (!can.workCases(session.user)) return <NotAllowed />;
  const back = `/${kind === 'case' ? 'cases' : 'survivors'}/${encodeURIComponent(params.id)}`;
  const update = kind === 'case' ? api.updateCase : api.updateSurvivor;
  return (
    <>
      <h1>{t(kind === 'case' ? 'title.caseEdit' : 'title.survivorEdit')}</h1>
      <RecordStateNote s={s} />
      {s.state === 'ok' && (
        <RecordForm
          key={`${s.record.id}@${s.record.version}`}
          specs={specsOf(session, s.record)}
          sections={sections}
          record={s.record}
          onSave={async (fields, version) => {
            await update(s.record.id, version!, fields);
            route(back, true);
          }}
          onCancel={() => route(back, true)}
          onReload={reload}
        />
      )}
    </>
  );
}
