// The bounds on what one browser (or anything else speaking HTTP to the web UI port) may
// cost the relay. Flow streams share the relay's own slots (RelayLimits.maxFlowStreams) and
// stall guard; these are the HTTP side's. docs/web-ui.md "Access and limits" lists them.

export interface UiLimits {
  /** Largest request body; beyond it 413. JSON nesting and size are bounded by it too. */
  maxBodyBytes: number;
  /** Open connections; a request on one beyond it gets 429 and the connection is closed. */
  maxConnections: number;
  /** Time to receive a request's headers (Node answers 408 past it). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (408 past it). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Attestation downloads assembled at once (each holds an export and a temporary directory); 429 beyond. */
  maxAttestDownloads: number;
  /**
   * Flows queued for one page while it follows (sent as cillion-follow-queue, observer/follow_queue.ts):
   * a page that cannot keep up loses flows within a second, told so, instead of falling
   * seconds behind the clock behind the relay's own, larger bound.
   */
  followQueue: number;
  /** How long a response that has ended may take to reach a client that stopped reading before its connection is cut. */
  endGraceMs: number;
}

export const DEFAULT_UI_LIMITS: UiLimits = {
  maxBodyBytes: 64 * 1024,
  // A browser opens about six per origin; a few browsers and scripts fit.
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxAttestDownloads: 2,
  endGraceMs: 2_000,
  // About half a second of a 10,000 flows/s stream, a few seconds of a quiet one.
  followQueue: 4_096,
};

/** The defaults with the given overrides; throws RangeError on a value that is no positive whole number. */
export function uiLimits(over: Partial<UiLimits> = {}): UiLimits {
  const out = { ...DEFAULT_UI_LIMITS };
  for (const [k, v] of Object.entries(over) as [keyof UiLimits, number | undefined][]) {
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`UI limit ${k} must be a positive whole number, not ${v}`);
    out[k] = v;
  }
  return out;
}
