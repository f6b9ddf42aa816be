// Evidence items (docs/consent.md): metadata as JSON, files as raw bodies (never base64, never
// in Web Storage). Downloads go through a Blob held only as long as the click needs it.
import { ApiError, csrf, request, type Grant } from './api';

export interface EvidenceItem {
  id: string;
  survivor_id: string;
  case_id: string | null;
  kind: string;
  title: string;
  description: string;
  date: string | null;
  created_at: string;
  created_by?: string;
  release_id?: string;
  file: { content_type: string; size: number; sha256: string } | null;
}

export const EVIDENCE_KINDS = ['identity_document', 'photo', 'audio_recording', 'video_recording', 'written_statement',
  'medical_record', 'police_report', 'court_document', 'attorney_notes', 'other'];
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const ACCEPT = 'application/pdf,image/jpeg,image/png,image/heic,audio/mpeg,audio/mp4,audio/x-m4a,audio/wav,audio/x-wav,video/mp4,video/quicktime,text/plain';

async function sendFile<T>(method: string, path: string, file: File): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' };
  const token = csrf();
  if (token) headers['X-CSRF-Token'] = token;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: file, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error ?? {};
    throw new ApiError(res.status, err.code ?? 'unknown', err.message ?? res.statusText, err.field);
  }
  return json as T;
}

const enc = encodeURIComponent;

export const evidenceApi = {
  /** The grants in force naming the caller's agency (the partner view). */
  shared: () => request<{ items: Grant[] }>('GET', '/api/v1/shared').then((r) => r.items),
  list: (survivorId: string) =>
    request<{ items: EvidenceItem[] }>('GET', `/api/v1/survivors/${enc(survivorId)}/evidence`).then((r) => r.items),
  create: (survivorId: string, body: { title: string; kind: string; description: string; date: string; case_id?: string }) =>
    request<EvidenceItem>('POST', `/api/v1/survivors/${enc(survivorId)}/evidence`, body),
  upload: (id: string, file: File) => sendFile<EvidenceItem>('PUT', `/api/v1/evidence/${enc(id)}/content`, file),
  attachSignedCopy: (releaseId: string, file: File) =>
    sendFile<EvidenceItem>('POST', `/api/v1/releases/${enc(releaseId)}/signed-copy`, file),
  /** Fetches the file and hands it to the browser as a download (a name made of the id only). */
  async download(id: string): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`/api/v1/evidence/${enc(id)}/content`, { credentials: 'same-origin', cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'network error');
    }
    if (!res.ok) throw new ApiError(res.status, 'not_found', res.statusText);
    const blob = await res.blob();
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? `evidence-${id}`;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
};
