// The attestation download: the relay's Attest export (signed by the relay) for a time
// range and selector, answered as a tar, saved through a blob URL under the relay's name.
import { parseTimeArg } from '../../observer/time_arg';
import { ExportRequest } from '../../proto/gen/attest/v1/attest';
import { apiPost } from './http';

export class AttestInputError extends Error {
  readonly code = 'ATTEST_BAD_INPUT';
}

export function exportRequest(since: string, until: string, selector: string, now: Date): ExportRequest {
  const s = parseTimeArg(since, now);
  if (!s) throw new AttestInputError(`since: "${since}" is neither RFC 3339 nor a duration like 1h`);
  const u = until === '' ? parseTimeArg('0s', now) : parseTimeArg(until, now);
  if (!u) throw new AttestInputError(`until: "${until}" is neither RFC 3339 nor a duration like 5m`);
  return ExportRequest.fromPartial({ since: s, until: u ?? undefined, selector, sign: true });
}

/** The file name the relay gave (Content-Disposition), or a fallback. */
export function attachmentName(header: string | null): string {
  const m = /filename="([^"]+)"/.exec(header ?? '');
  return m ? m[1] : 'attestation.tar';
}

/** Downloads the tar; resolves to the file name and size saved. */
export async function downloadAttestation(req: ExportRequest): Promise<{ name: string; bytes: number }> {
  const res = await apiPost('cillion.attest.v1.Attest/Export', ExportRequest.toJSON(req));
  const blob = await res.blob();
  const name = attachmentName(res.headers.get('content-disposition'));
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, bytes: blob.size };
}
