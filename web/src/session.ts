import { useRerenderOn } from './subscribe';
// In-memory session state (user, field table). Nothing here is ever written to storage.
import { api, forgetSession, type FieldSpec, type SecondFactorAnswer, type User } from './api';

export interface Session {
  user: User;
  fields: FieldSpec[];
}

export type EndReason = 'logout' | 'expired' | null;

let session: Session | null = null;
let endReason: EndReason = null;
const listeners = new Set<() => void>();

function emit() {
  listeners.forEach((l) => l());
}

export function getSession(): Session | null {
  return session;
}

export function lastEndReason(): EndReason {
  return endReason;
}

export async function logIn(username: string, password: string, second?: SecondFactorAnswer): Promise<void> {
  const user = await api.login(username, password, second);
  const fields = await api.fields();
  session = { user, fields };
  endReason = null;
  emit();
}

export async function logOut(): Promise<void> {
  try {
    await api.logout();
  } catch {
    /* the session is dropped locally whatever the server said */
  }
  clearSession('logout');
}

export function clearSession(reason: EndReason): void {
  session = null;
  endReason = reason;
  forgetSession();
  emit();
}

export function useSession(): Session | null {
  useRerenderOn(listeners);
  return session;
}

// What the UI offers each role. The API enforces access; this only avoids showing dead ends.
const CASE_ROLES = ['advocate', 'case_manager', 'attorney', 'paralegal', 'social_worker', 'supervisor'];
const LE_ROLES = ['le_victim_specialist', 'le_investigator'];

export const can = {
  workCases: (u: User) => CASE_ROLES.includes(u.role),
  seeShared: (u: User) => LE_ROLES.includes(u.role),
  readAudit: (u: User) => u.role === 'supervisor' || u.role === 'auditor',
  listUsers: (u: User) => u.role === 'administrator' || u.role === 'supervisor' || u.role === 'auditor',
  legalTeam: (u: User) => u.role === 'attorney' || u.role === 'paralegal',
};

export function fieldsOf(s: Session, kind: 'survivor' | 'case'): FieldSpec[] {
  return s.fields.filter((f) => f.kind === kind);
}
