// Reading another process's /metrics for `cillion status`: the exposition text within a
// deadline, and the labels of an info metric (one series whose labels are the fact).
const LABEL = /([a-z_]+)="((?:[^"\\]|\\.)*)"/g;
const unescape = (v: string): string => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

export class MetricsFetchError extends Error {
  override readonly name = 'MetricsFetchError';
}

/** GET http://<address>/metrics; a bounded wait, and a clear error otherwise. */
export async function fetchMetricsText(address: string, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new MetricsFetchError(`${address}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new MetricsFetchError(`${address}: HTTP ${res.status}`);
  return res.text();
}

/** The labels of the first series of `name` with labels; undefined when the text has none. */
export function infoLabels(text: string, name: string): Map<string, string> | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  if (!line) return undefined;
  return new Map([...line.slice(name.length, line.lastIndexOf('}') + 1).matchAll(LABEL)].map((m) => [m[1], unescape(m[2])]));
}

/** The value of an unlabelled series `name`; undefined when absent. */
export function plainValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
