// "Items needing action" on the home page: break-glass alerts for supervisors (S14) and the
// tasks to tell a survivor about a compelled disclosure (S20), completable here.
import { useState } from 'preact/hooks';
import { api, ApiError, opsApi, type Agency, type AlertGrant, type Task, type User } from '../api';
import { formatDate, formatDateTime, t, useLang } from '../i18n';
import { can } from '../session';
import { EmptyState, ErrorNote, Loading, useAsyncEffect } from './common';

type Data = { alerts: AlertGrant[]; tasks: Task[]; agencies: Agency[]; users: User[] };

function TaskItem({ task, agencyName, onDone }: { task: Task; agencyName: string; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const g = task.disclosure;
  const done = async () => {
    setBusy(true);
    try {
      await opsApi.taskDone(task.id);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? t('actions.alreadyDone') : t('common.error'));
      setBusy(false);
    }
  };
  return (
    <li data-testid={`task-${task.id}`}>
      <div><span class="badge badge-followup">{t('actions.taskBadge')}</span> <strong>{t('actions.notifySurvivor')}</strong></div>
      <p>
        {t('actions.taskDetail', { basis: t(`compelled.basis.${g.purpose}`), agency: agencyName,
          date: formatDate(g.created_at.slice(0, 10)) })}
      </p>
      <p class="muted">{g.categories.map((c) => t(`category.${c}`)).join(', ')}</p>
      <div class="row-actions">
        <a class="button small" href={`/survivors/${encodeURIComponent(task.survivor_id)}`}>{t('actions.openSurvivor')}</a>
        <button class="button small primary" type="button" disabled={busy} onClick={done}>{t('actions.markNotified')}</button>
      </div>
      {error && <ErrorNote>{error}</ErrorNote>}
    </li>
  );
}

function AlertItem({ a, agencyName, userName }: { a: AlertGrant; agencyName: string; userName: string }) {
  const active = a.status === 'active';
  return (
    <li data-testid={`alert-${a.id}`}>
      <details>
        <summary>
          <span class={`badge ${active ? 'badge-outcome-bad' : 'badge-closed'}`}>{active ? t('actions.alertActive') : t('actions.alertOver')}</span>{' '}
          {t('actions.alertTitle', { when: formatDateTime(a.created_at) })}
        </summary>
        <dl class="fields">
          <dt>{t('actions.requestedBy')}</dt>
          <dd>{userName ? `${userName} · ${agencyName}` : agencyName}</dd>
          <dt>{t('actions.until')}</dt>
          <dd>{formatDateTime(a.expires_at)}</dd>
          <dt>{t('actions.reason')}</dt>
          <dd data-testid="alert-reason">{a.reason ?? t('common.withheld')}</dd>
        </dl>
        <div class="row-actions">
          <a class="button small" href={`/survivors/${encodeURIComponent(a.survivor_id)}`}>{t('actions.openSurvivor')}</a>
          <a class="button small" href="/audit">{t('home.auditLink')}</a>
        </div>
      </details>
    </li>
  );
}

export function ActionItems({ user }: { user: User }) {
  useLang();  // re-render on a language switch (the router does not)
  const supervisor = user.role === 'supervisor';
  const tasksToo = can.workCases(user);  // staff who record releases (not law enforcement)
  const [tick, setTick] = useState(0);
  const [s, setS] = useState<{ state: 'loading' } | { state: 'error' } | { state: 'ok'; data: Data }>({ state: 'loading' });
  useAsyncEffect(async (sig) => {
    try {
      const [alerts, tasks, agencies, users] = await Promise.all([
        supervisor ? opsApi.alerts() : Promise.resolve([]),
        tasksToo ? opsApi.tasks() : Promise.resolve([]),
        api.agencies(),
        supervisor ? api.users().catch(() => []) : Promise.resolve([]),
      ]);
      if (!sig.cancelled) setS({ state: 'ok', data: { alerts, tasks, agencies, users } });
    } catch {
      if (!sig.cancelled) setS({ state: 'error' });
    }
  }, [tick]);
  if (!supervisor && !tasksToo) return null;
  const agencyName = (d: Data, id: string) => d.agencies.find((a) => a.id === id)?.name ?? id;
  return (
    <section class="card" aria-labelledby="actions-h" data-testid="action-items">
      <h2 id="actions-h">{t('actions.heading')}</h2>
      {s.state === 'loading' && <Loading />}
      {s.state === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {s.state === 'ok' && (s.data.alerts.length + s.data.tasks.length === 0 ? (
        <EmptyState><p data-testid="actions-empty">{t('actions.empty')}</p></EmptyState>
      ) : (
        <ul class="action-list">
          {s.data.tasks.map((task) => (
            <TaskItem key={task.id} task={task} agencyName={agencyName(s.data, task.disclosure.recipient_agency_id)}
              onDone={() => setTick(tick + 1)} />
          ))}
          {s.data.alerts.map((a) => (
            <AlertItem key={a.id} a={a} agencyName={agencyName(s.data, a.recipient_agency_id)}
              userName={s.data.users.find((u) => u.id === (a.recipient_user_id ?? a.created_by))?.display_name ?? ''} />
          ))}
        </ul>
      ))}
    </section>
  );
}
