// One survivor or case record loaded for a page, and the note shown while it is not there.
import { useState } from 'preact/hooks';
import { api, ApiError, type RecordView } from '../api';
import { t } from '../i18n';
import { ErrorNote, Loading, useAsyncEffect } from './common';

export type RecordState = { state: 'loading' } | { state: 'missing' } | { state: 'error' } | { state: 'ok'; record: RecordView };

export function useRecord(kind: 'survivor' | 'case', id: string): [RecordState, () => void] {
  const [s, setS] = useState<RecordState>({ state: 'loading' });
  const [n, setN] = useState(0);
  useAsyncEffect(
    async (sig) => {
      setS({ state: 'loading' });
      try {
        const record = kind === 'survivor' ? await api.survivor(id) : await api.case(id);
        if (!sig.cancelled) setS({ state: 'ok', record });
      } catch (e) {
        if (!sig.cancelled) setS(e instanceof ApiError && e.status === 404 ? { state: 'missing' } : { state: 'error' });
      }
    },
    [kind, id, n],
  );
  return [s, () => setN((x) => x + 1)];
}

export function RecordStateNote({ s }: { s: RecordState }) {
  if (s.state === 'loading') return <Loading />;
  if (s.state === 'missing') return <ErrorNote>{t('common.notFound')}</ErrorNote>;
  if (s.state === 'error') return <ErrorNote>{t('common.error')}</ErrorNote>;
  return null;
}
