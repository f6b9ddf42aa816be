// Relief screening of a case: outcome per relief, element by element with citations, what is
// missing, and the deadlines — in the reader's language (the API explains in en or es).
import { useState } from 'preact/hooks';
import { api, ApiError, type ReliefResult, type Screening, type ScreeningDeadline } from '../api';
import { formatDate, has, t, useLang } from '../i18n';
import { ErrorNote, Loading, useAsyncEffect } from './common';

const RELIEFS = ['T', 'U', 'CP', 'SIJS', 'asylum', 'HHS_certification', 'HHS_eligibility_letter'];

function label(prefix: string, key: string): string {
  return has(`${prefix}.${key}`) ? t(`${prefix}.${key}`) : key;
}

function OutcomeBadge({ outcome }: { outcome: string }) {
  return <span class={`badge outcome-${outcome}`}>{label('screening.outcome', outcome)}</span>;
}

interface EvidenceItem {
  element?: string;
  kind?: string;
  required?: string;
  description?: string;
  status?: string;
  alternatives?: string[];
}

function Relief({ id, r }: { id: string; r: ReliefResult }) {
  const evidence = (r.evidence as EvidenceItem[]).filter((e) => e.kind === 'requirement' ? e.status === 'missing' : true);
  return (
    <details class="relief" data-testid={`relief-${id}`}>
      <summary>
        <span class="relief-name">{label('screening.relief', id)}</span> <OutcomeBadge outcome={r.outcome} />
      </summary>
      <p class="explanation" data-testid={`explanation-${id}`}>{r.explanation}</p>
      {r.elements.length > 0 && (
        <table class="elements">
          <caption class="visually-hidden">{t('screening.elementsCaption', { relief: label('screening.relief', id) })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('screening.element')}</th>
              <th scope="col">{t('screening.status')}</th>
              <th scope="col">{t('screening.citation')}</th>
            </tr>
          </thead>
          <tbody>
            {r.elements.map((e) => (
              <tr key={e.id}>
                <td>
                  <strong>{e.title ?? e.id}</strong>
                  {e.explanation && <div class="muted small">{e.explanation}</div>}
                </td>
                <td>
                  <span class={`badge element-${e.status}`}>{label('screening.elementStatus', e.status)}</span>
                </td>
                <td class="citation">{e.citation}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.missing_facts.length > 0 && (
        <p>
          <strong>{t('screening.missingFacts')}</strong> {r.missing_facts.join(', ')}
        </p>
      )}
      {evidence.length > 0 && (
        <div>
          <strong>{t('screening.evidence')}</strong>
          <ul>
            {evidence.map((e, i) => (
              <li key={i}>
                {e.required ?? e.description}
                {e.alternatives && e.alternatives.length > 0 && (
                  <span class="muted"> — {t('screening.alternatives')} {e.alternatives.join('; ')}</span>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </details>
  );
}

function Deadlines({ items, kind }: { items: ScreeningDeadline[]; kind: 'statutory' | 'practice' }) {
  if (items.length === 0) return null;
  return (
    <div class="deadlines" data-testid={`deadlines-${kind}`}>
      <h3>{t(kind === 'statutory' ? 'screening.deadlinesLegal' : 'screening.deadlinesPractice')}</h3>
      <ul>
        {items.map((d) => (
          <li key={d.name} class={d.passed ? 'passed' : undefined}>
            <strong>{formatDate(d.date)}</strong> — {d.basis ?? d.name}{' '}
            <span class="muted citation">({d.citation})</span>
            {d.passed && <span class="badge element-unmet">{t('screening.passed')}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ScreeningPanel({ caseId, version }: { caseId: string; version: number }) {
  const current = useLang();
  const [state, setState] = useState<{ s: 'loading' } | { s: 'ok'; data: Screening } | { s: 'none' } | { s: 'error' }>({
    s: 'loading',
  });
  useAsyncEffect(
    async (signal) => {
      setState({ s: 'loading' });
      try {
        const data = await api.screening(caseId, current);
        if (!signal.cancelled) setState({ s: 'ok', data });
      } catch (err) {
        if (signal.cancelled) return;
        setState(err instanceof ApiError && (err.status === 412 || err.status === 404) ? { s: 'none' } : { s: 'error' });
      }
    },
    [caseId, version, current],
  );
  return (
    <section class="card screening" aria-labelledby="sec-screening" data-testid="section-screening">
      <h2 id="sec-screening">{t('screening.title')}</h2>
      {state.s === 'loading' && <Loading />}
      {state.s === 'none' && <p class="muted">{t('screening.noFacts')}</p>}
      {state.s === 'error' && <ErrorNote>{t('screening.error')}</ErrorNote>}
      {state.s === 'ok' && (
        <>
          <p class="muted">{t('screening.asOf', { date: formatDate(state.data.as_of) })}</p>
          <p class="notice">{t('screening.notAdvice')}</p>
          {RELIEFS.filter((id) => state.data.results[id]).map((id) => (
            <Relief key={id} id={id} r={state.data.results[id]} />
          ))}
          <Deadlines items={state.data.deadlines} kind="statutory" />
          <Deadlines items={state.data.practice_deadlines ?? []} kind="practice" />
        </>
      )}
    </section>
  );
}
