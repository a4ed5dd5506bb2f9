// Calls to the relay's UI API (/api/v1): every request carries `x-cillion-ui: 1`, which a
// browser sends cross-site only after a CORS preflight the relay never grants. HTTP errors
// carry the gRPC code and name as JSON; they become UiApiError.
export const API_HEADER = { 'x-cillion-ui': '1' } as const;

export class UiApiError extends Error {
  constructor(
    readonly code: number,
    readonly grpcName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Whoami {
  name: string;
  roles: string[];
  tls: boolean;
  relay: string;
  cluster: string;
}

/** The error an HTTP error answer carries, or one naming the HTTP status. */
export async function answerError(res: Response): Promise<UiApiError> {
  const text = await res.text().catch(() => '');
  try {
    const e = JSON.parse(text) as { code?: number; name?: string; message?: string };
    if (typeof e.code === 'number') return new UiApiError(e.code, e.name ?? '', e.message ?? text);
  } catch {
    // not JSON: a proxy's or the browser's own error page
  }
  return new UiApiError(2, 'UNKNOWN', `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

export async function apiPost(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(`/api/v1/${path}`, {
    method: 'POST',
    headers: { ...API_HEADER, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw await answerError(res);
  return res;
}

export async function fetchWhoami(): Promise<Whoami> {
  const res = await fetch('/api/v1/whoami', { headers: API_HEADER });
  if (!res.ok) throw await answerError(res);
  const w = (await res.json()) as Partial<Whoami>;
  return { name: w.name ?? '', roles: w.roles ?? [], tls: w.tls === true, relay: w.relay ?? '', cluster: w.cluster ?? '' };
}
