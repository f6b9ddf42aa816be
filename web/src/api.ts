// The only road to data: the Trellis HTTP API. The CSRF token lives in this module's memory
// only (never in Web Storage), so a reload means logging in again (SECURITY.md S9).
export interface User {
  id: string;
  username: string;
  display_name: string;
  role: string;
  agency_id: string;
}

export type FieldValue = string | number | boolean | string[];

export interface RecordView {
  id: string;
  kind: 'survivor' | 'case';
  agency_id: string;
  version: number;
  created_at: string;
  updated_at: string;
  fields: Record<string, FieldValue>;
  team: string[];
  redacted: string[];
  survivor_id?: string;
  case_number?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export enum FieldType {
  Text = 0,
  LongText = 1,
  Date = 2,
  Number = 3,
  Checkbox = 4,
  Picklist = 5,
  MultiPicklist = 6,
  Country = 7,
  Countries = 8,
  Language = 9,
}

export interface FieldSpec {
  kind: 'survivor' | 'case';
  name: string;
  label: string;
  sensitivity: 'statistical' | 'case' | 'identifying' | 'restricted' | 'privileged';
  category: string;
  values: string[];
  type: FieldType;
  /** Written by Trellis itself (e.g. the last relief screening): shown, never edited. */
  system_only?: boolean;
}

export type ElementStatus = 'met' | 'unmet' | 'unknown';
export type Outcome = 'eligible' | 'likely_eligible_missing_evidence' | 'not_eligible' | 'not_applicable' | 'ambiguous';

export interface ScreeningElement {
  id: string;
  title?: string;
  status: ElementStatus;
  citation: string;
  facts: string[];
  explanation?: string;
}

export interface ScreeningDeadline {
  name: string;
  date: string;
  kind: 'statutory' | 'practice';
  relief: string | null;
  citation: string;
  basis?: string;
  passed?: boolean;
}

export interface ReliefResult {
  outcome: Outcome;
  elements: ScreeningElement[];
  missing_facts: string[];
  evidence: unknown[];
  explanation: string;
}

export interface Screening {
  as_of: string;
  rules_version: string;
  results: Record<string, ReliefResult>;
  deadlines: ScreeningDeadline[];
  practice_deadlines?: ScreeningDeadline[];
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  action: string;
  outcome: string;
  target: string;
  survivor: string;
  request: string;
  detail: string;
}

export interface Agency {
  id: string;
  name: string;
  kind: string;
}

export interface Grant {
  id: string;
  kind: 'release' | 'break_glass' | 'compelled';
  survivor_id: string;
  recipient_agency_id: string;
  categories: string[];
  purpose: string;
  language: string;
  effective_at: string;
  expires_at: string;
  created_at: string;
  status: string;
  signers: { relationship: string; name: string }[];
  revoke_reason?: string;
  evidence_ids?: string[];
  signed_copy_id?: string;
}

export interface Disclosure {
  seq: number;
  time: string;
  record_id: string;
  actor: string;
  agency_id: string;
  action: string;
  categories: string[];
  basis: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export function csrf(): string | null {
  return csrfToken;
}

export function forgetSession(): void {
  csrfToken = null;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  if (res.status === 204) return undefined as T;
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error ?? {};
    if (res.status === 401 && path !== '/api/v1/login') onUnauthenticated?.();
    throw new ApiError(res.status, err.code ?? 'unknown', err.message ?? res.statusText, err.field);
  }
  return json as T;
}

function qs(params: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== false) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const api = {
  /** `second`: the TOTP code or a recovery code, when the server answered `second_factor_required`. */
  async login(username: string, password: string, second?: SecondFactorAnswer): Promise<User> {
    const r = await request<{ user: User; csrf_token: string }>('POST', '/api/v1/login', { username, password, ...second });
    csrfToken = r.csrf_token;
    return r.user;
  },
  async logout(): Promise<void> {
    try {
      await request<void>('POST', '/api/v1/logout');
    } finally {
      csrfToken = null;
    }
  },
  /** Ends the session without waiting: survives the page being replaced (quick exit). */
  logoutBeacon(): void {
    if (!csrfToken) return;
    try {
      void fetch('/api/v1/logout', {
        method: 'POST',
        keepalive: true,
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrfToken },
      }).catch(() => undefined);
    } catch {
      /* best effort */
    }
    csrfToken = null;
  },
  fields: () => request<{ items: FieldSpec[] }>('GET', '/api/v1/fields').then((r) => r.items),
  users: () => request<{ items: User[] }>('GET', '/api/v1/users').then((r) => r.items),
  /** A bearer token for the caller's own scripts; the secret is answered once. */
  createToken: (name: string, ttl_seconds?: number) =>
    request<{ token: string }>('POST', '/api/v1/tokens', { name, ...(ttl_seconds ? { ttl_seconds } : {}) }).then((r) => r.token),
  /** Crypto-shredding: the survivor's data key is destroyed; supervisors of the survivor's agency. */
  eraseSurvivor: (id: string) => request<void>('DELETE', `/api/v1/survivors/${encodeURIComponent(id)}`),
  survivors: (p: { limit?: number; cursor?: string }) => request<Page<RecordView>>('GET', `/api/v1/survivors${qs(p)}`),
  survivor: (id: string) => request<RecordView>('GET', `/api/v1/survivors/${encodeURIComponent(id)}`),
  createSurvivor: (fields: Record<string, FieldValue>) => request<RecordView>('POST', '/api/v1/survivors', { fields }),
  updateSurvivor: (id: string, version: number, fields: Record<string, FieldValue | null>) =>
    request<RecordView>('PATCH', `/api/v1/survivors/${encodeURIComponent(id)}`, { version, fields }),
  cases: (p: { limit?: number; cursor?: string; mine?: boolean; status?: string; survivor_id?: string }) =>
    request<Page<RecordView>>('GET', `/api/v1/cases${qs(p)}`),
  case: (id: string) => request<RecordView>('GET', `/api/v1/cases/${encodeURIComponent(id)}`),
  createCase: (survivor_id: string, fields: Record<string, FieldValue>) =>
    request<RecordView>('POST', '/api/v1/cases', { survivor_id, fields }),
  updateCase: (id: string, version: number, fields: Record<string, FieldValue | null>) =>
    request<RecordView>('PATCH', `/api/v1/cases/${encodeURIComponent(id)}`, { version, fields }),
  agencies: () => request<{ items: Agency[] }>('GET', '/api/v1/agencies').then((r) => r.items),
  releases: (survivorId: string) =>
    request<{ items: Grant[] }>('GET', `/api/v1/survivors/${encodeURIComponent(survivorId)}/releases`).then((r) => r.items),
  createRelease: (body: Record<string, unknown>) => request<Grant>('POST', '/api/v1/releases', body),
  revokeRelease: (id: string, reason: string) =>
    request<Grant>('POST', `/api/v1/releases/${encodeURIComponent(id)}/revoke`, { reason }),
  disclosures: (survivorId: string) =>
    request<{ items: Disclosure[] }>('GET', `/api/v1/survivors/${encodeURIComponent(survivorId)}/disclosures`).then(
      (r) => r.items,
    ),
  screening: (id: string, lang: string) =>
    request<Screening>('GET', `/api/v1/cases/${encodeURIComponent(id)}/screening${qs({ lang })}`),
  audit: (p: { limit?: number; before?: number }) =>
    request<{ items: AuditEntry[]; next_before?: number | null }>('GET', `/api/v1/audit${qs(p)}`),
  // The TOTP second factor of the signed-in user (SECURITY.md S8).
  secondFactor: () => request<SecondFactorStatus>('GET', '/api/v1/me/second-factor'),
  /** An administrator removes a user's second factor (lost phone); 404 outside their agency. */
  resetSecondFactor: (userId: string) =>
    request<void>('POST', `/api/v1/users/${encodeURIComponent(userId)}/second-factor/reset`),
  beginTotp: () => request<TotpEnrolment>('POST', '/api/v1/me/second-factor/totp'),
  confirmTotp: (code: string) =>
    request<{ recovery_codes: string[] }>('POST', '/api/v1/me/second-factor/totp/confirm', { code }).then(
      (r) => r.recovery_codes,
    ),
  disableTotp: (password: string, code: string) =>
    request<void>('POST', '/api/v1/me/second-factor/disable', { password, code }),
};

export type SecondFactorAnswer = { code: string } | { recovery_code: string };

export interface SecondFactorStatus {
  enabled: boolean;
  pending: boolean;
  recovery_codes_left: number;
}

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
}
// --- emergency access, compelled disclosure, tasks, alerts, import/export jobs ---
export interface Task {
  id: string;
  type: 'notify_survivor';
  survivor_id: string;
  disclosure: Grant;
}

export interface AlertGrant extends Grant {
  created_by?: string;
  recipient_user_id?: string;
  reason?: string;
}

export interface Job {
  id: string;
  kind: 'import_htcds' | 'export_htcds';
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  created_at: string;
  finished_at: string | null;
  identifying?: boolean;
  bytes_written?: number;
  file_available?: boolean;
  file_expires_at?: string | null;
  result?: { rows: number; survivors?: number; cases?: number };
  error?: { code: string; message: string; field?: string };
}

export const opsApi = {
  breakGlass: (survivor_id: string, reason: string) => request<Grant>('POST', '/api/v1/break-glass', { survivor_id, reason }),
  alerts: () => request<{ items: AlertGrant[] }>('GET', '/api/v1/alerts').then((r) => r.items),
  compelled: (body: Record<string, unknown>) => request<Grant>('POST', '/api/v1/compelled-disclosures', body),
  tasks: () => request<{ items: Task[] }>('GET', '/api/v1/tasks').then((r) => r.items),
  taskDone: (id: string) => request<Grant>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/done`),
  job: (id: string) => request<Job>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id: string) => request<Job>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/cancel`),
  startExport: (identifying: boolean) => request<Job>('POST', '/api/v1/jobs/export-htcds', { identifying }),
  jobFileUrl: (id: string) => `/api/v1/jobs/${encodeURIComponent(id)}/file`,
  /** Uploads the CSV as the request body (text/csv), reporting bytes sent; answers with the queued job. */
  startImport(file: Blob, onUpload?: (sent: number, total: number) => void): Promise<Job> {
    // XMLHttpRequest, not fetch: only it reports upload progress.
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/jobs/import-htcds');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('Content-Type', 'text/csv');
      xhr.setRequestHeader('X-CSRF-Token', csrfToken ?? '');
      xhr.withCredentials = true;
      if (onUpload) xhr.upload.onprogress = (e) => onUpload(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
      xhr.onload = () => {
        let json: unknown = null;
        try {
          json = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON */
        }
        if (xhr.status >= 200 && xhr.status < 300) return resolve(json as Job);
        if (xhr.status === 401) onUnauthenticated?.();
        const err = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error ?? {};
        reject(new ApiError(xhr.status, err.code ?? 'unknown', err.message ?? xhr.statusText, err.field));
      };
      xhr.send(file);
    });
  },
};
