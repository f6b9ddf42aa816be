import { useState } from 'preact/hooks';
import { api, type RecordView, type User } from '../api';
import { CaseTable } from '../components/casetable';
import { EmptyState, ErrorNote, Loading, useAsyncEffect, usePageTitle } from '../components/common';
import { SharedEvidence } from '../components/evidence';
import { roleLabel, t } from '../i18n';
import { can, getSession } from '../session';
import { ActionItems } from '../components/actionitems';
import { EmergencyLink } from './emergency';

type Load<T> = { state: 'loading' } | { state: 'error' } | { state: 'ok'; data: T };

function useLoad<T>(fn: () => Promise<T>, deps: unknown[] = []): Load<T> {
  const [s, setS] = useState<Load<T>>({ state: 'loading' });
  useAsyncEffect(async (sig) => {
    setS({ state: 'loading' });
    try {
      const data = await fn();
      if (!sig.cancelled) setS({ state: 'ok', data });
    } catch {
      if (!sig.cancelled) setS({ state: 'error' });
    }
  }, deps);
  return s;
}

function CaseSection({ id, title, empty, load }: { id: string; title: string; empty: string; load: () => Promise<RecordView[]> }) {
  const s = useLoad(load);
  return (
    <section class="card" aria-labelledby={id} data-testid={id}>
      <h2 id={id}>{title}</h2>
      {s.state === 'loading' && <Loading />}
      {s.state === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {s.state === 'ok' && (s.data.length ? <CaseTable items={s.data} caption={title} compact /> : <EmptyState>{empty}</EmptyState>)}
    </section>
  );
}

/** "Reset two-step login" for one user, with a confirmation step (the user's phone is lost). */
function ResetSecondFactor({ user, onDone }: { user: User; onDone: (message: string) => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const name = { name: user.username };
  if (!asking) {
    return (
      <button type="button" class="button small" onClick={() => setAsking(true)} aria-label={t('users.resetFor', name)}>
        {t('users.reset')}
      </button>
    );
  }
  const reset = async () => {
    setBusy(true);
    try {
      await api.resetSecondFactor(user.id);
      onDone(t('users.resetDone', name));
    } catch {
      onDone(t('users.resetFailed', name));
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <span class="row-actions" role="group" aria-label={t('users.resetFor', name)}>
      <span>{t('users.resetConfirm')}</span>
      <button type="button" class="button small danger" onClick={reset} disabled={busy}>
        {t('users.resetYes')}
      </button>
      <button type="button" class="button small" onClick={() => setAsking(false)} disabled={busy}>
        {t('common.cancel')}
      </button>
    </span>
  );
}

function UsersSection() {
  const s = useLoad<User[]>(() => api.users());
  const [message, setMessage] = useState('');
  const admin = getSession()?.user.role === 'administrator';
  return (
    <section class="card" aria-labelledby="users-h">
      <h2 id="users-h">{t('home.users')}</h2>
      <p role="status" data-testid="users-status">{message}</p>
      {s.state === 'loading' && <Loading />}
      {s.state === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {s.state === 'ok' && (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">{t('home.users')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('users.name')}</th>
                <th scope="col">{t('users.username')}</th>
                <th scope="col">{t('users.role')}</th>
                {admin && <th scope="col">{t('users.secondFactor')}</th>}
              </tr>
            </thead>
            <tbody>
              {s.data.map((u) => (
                <tr key={u.id}>
                  <td>{u.display_name}</td>
                  <td class="mono">{u.username}</td>
                  <td>{roleLabel(u.role)}</td>
                  {admin && (
                    <td>
                      <ResetSecondFactor user={u} onDone={setMessage} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** What other agencies released to this one; re-checked on demand (releases come and go). */
export function SharedSection() {
  const [round, setRound] = useState(0);
  return <SharedList key={round} onRefresh={() => setRound(round + 1)} />;
}

function SharedList({ onRefresh }: { onRefresh: () => void }) {
  const s = useLoad(() => api.cases({ limit: 50 }).then((p) => p.items));
  return (
    <section class="card" aria-labelledby="shared-h" data-testid="shared">
      <div class="section-head">
        <h2 id="shared-h">{t('shared.heading')}</h2>
        <button class="button" type="button" onClick={onRefresh} data-testid="shared-refresh">{t('shared.refresh')}</button>
      </div>
      <p class="hint">{t('home.leIntro')}</p>
      {s.state === 'loading' && <Loading />}
      {s.state === 'error' && <ErrorNote>{t('common.error')}</ErrorNote>}
      {s.state === 'ok' &&
        (s.data.length ? (
          <CaseTable items={s.data} caption={t('shared.heading')} />
        ) : (
          <EmptyState>
            <p data-testid="shared-empty">{t('shared.empty')}</p>
          </EmptyState>
        ))}
    </section>
  );
}

export function HomePage() {
  usePageTitle('title.home');
  const user = getSession()!.user;
  const supervisor = user.role === 'supervisor';
  return (
    <>
      <div class="page-head">
        <div>
          <h1>{t('home.heading', { name: user.display_name || user.username })}</h1>
          <p class="muted">{t('home.role', { role: roleLabel(user.role) })}</p>
        </div>
        {can.workCases(user) && (
          <div class="page-actions">
            <a class="button primary" href="/survivors/new">
              {t('home.newSurvivor')}
            </a>
            <a class="button" href="/cases">
              {t('home.allCases')}
            </a>
          </div>
        )}
      </div>
      <ActionItems user={user} />
      {(can.workCases(user) || can.seeShared(user)) && (
        <p class="hint">
          {t('emergency.homeHint')} <EmergencyLink />
        </p>
      )}
      {can.workCases(user) && (
        <div class="grid-2">
          <CaseSection
            id="home-open"
            title={t('home.myOpen')}
            empty={t('home.myOpenEmpty')}
            load={() => api.cases({ mine: true, status: 'Active', limit: 10 }).then((p) => p.items)}
          />
          <CaseSection
            id="home-followup"
            title={t('home.followUp')}
            empty={t('home.followUpEmpty')}
            load={() => api.cases({ mine: !supervisor, status: 'FollowUp', limit: 10 }).then((p) => p.items)}
          />
        </div>
      )}
      {supervisor && (
        <p>
          {t('home.supervisorAudit')} <a href="/audit">{t('home.auditLink')}</a>
        </p>
      )}
      {can.seeShared(user) && <SharedSection />}
      {can.seeShared(user) && <SharedEvidence />}
      {user.role === 'auditor' && (
        <section class="card" data-testid="auditor-home">
          <p>{t('home.auditorIntro')}</p>
          <p>
            <a class="button primary" href="/audit">
              {t('home.auditLink')}
            </a>
          </p>
        </section>
      )}
      {user.role === 'administrator' && (
        <>
          <section class="card">
            <p>{t('home.adminIntro')}</p>
          </section>
          <UsersSection />
        </>
      )}
    </>
  );
}
