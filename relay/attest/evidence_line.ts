// Reading an evidence line back (the form is canonical_flow.ts's). parseEvidenceLine is
// the full parse: JSON, exact keys, documented types, and JSON.stringify of the parsed value
// gives the line back. scanEvidenceLine is verify's fast way, one pass of a compiled
// pattern: the line must be in the one canonical layout (keys in order at every level, no
// whitespace) with strings that need no escape and integers in their shortest form, and
// only the fields the checks use come out. Every line it accepts, the full parse accepts
// with the same fields; any other line (a canonical one with an escaped character
// included) verify leaves to the full parse, which decides and names what is wrong. So the
// checks are those of the full parse, without a JavaScript object per line and without
// re-encoding it. No value import here, so verify's worker threads load little.
import type { TallyFlow } from './predicate';
import type { CanonicalFlow, FenceVerdictName } from './canonical_flow';

/** What the checks read of a line. */
export interface ScannedLine {
  time: string;
  uuid: string;
  path: string;
  /** Counts of up to 15 digits as numbers (exact, below 2^50), longer ones as their digits. */
  packets: number | string | null;
  bytes: number | string | null;
  fence: { verdict: FenceVerdictName; name: string; reason: string } | null;
  /** The source labels as their JSON array text, e.g. ["k8s:app=web"]. */
  srcLabels: string;
}

/**
 * A string JSON.stringify writes as it is: no quote, backslash, control character or lone
 * surrogate (UTF-8 text never decodes to one, but the promise holds for any string).
 */
const CHARS = '(?:[^"\\\\\\x00-\\x1f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*';
const STR = `"${CHARS}"`;
/** A non-negative integer as JSON.stringify writes it, short enough to be exact. */
const UINT = '(?:0|[1-9][0-9]{0,14})';
const COUNT = '(null|"(?:0|[1-9][0-9]*)")';
const endpoint = (labels: string): string =>
  `\\{"cluster":${STR},"identity":${UINT},"labels":${labels},"namespace":${STR},"pod":${STR},"workload":${STR}\\}`;
const LABELS = `\\[(?:${STR}(?:,${STR})*)?\\]`;
const LINE = new RegExp(
  `^\\{"bytes":${COUNT},"dst":${endpoint(LABELS)},"dstIp":${STR},"dstPort":${UINT},` +
    `"fence":(?:null|\\{"name":"(${CHARS})","reason":"(${CHARS})","verdict":"(COMPLIANT|VIOLATION|UNVERIFIED)"\\}),` +
    `"node":${STR},"packets":${COUNT},"path":"(${CHARS})","point":${STR},"proto":${STR},"src":${endpoint(`(${LABELS})`)},` +
    `"srcIp":${STR},"srcPort":${UINT},"time":"(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{9}Z)","uuid":"(${CHARS})","verdict":${STR}\\}$`,
);
const EXACT_DIGITS = 15;

function count(text: string): number | string | null {
  if (text === 'null') return null;
  const digits = text.slice(1, -1);
  return digits.length > EXACT_DIGITS ? digits : Number(digits);
}

/** The line's fields, or undefined when the fast form does not hold and the full parse must decide. */
export function scanEvidenceLine(line: string): ScannedLine | undefined {
  const m = LINE.exec(line);
  if (m === null) return undefined;
  const bytes = count(m[1]);
  const packets = count(m[5]);
  if ((bytes === null) !== (packets === null)) return undefined;
  return {
    time: m[8],
    uuid: m[9],
    path: m[6],
    packets,
    bytes,
    fence: m[4] === undefined ? null : { verdict: m[4] as FenceVerdictName, name: m[2], reason: m[3] },
    srcLabels: m[7],
  };
}

export class EvidenceLineError extends Error {}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isCount = (v: unknown): boolean => v === null || (isStr(v) && /^(0|[1-9]\d*)$/.test(v));

function checkEndpoint(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return isStr(e.cluster) && isStr(e.namespace) && isStr(e.pod) && isStr(e.workload) && isUint(e.identity)
    && Array.isArray(e.labels) && e.labels.every(isStr);
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const KEYS = 'bytes,dst,dstIp,dstPort,fence,node,packets,path,point,proto,src,srcIp,srcPort,time,uuid,verdict';
const ENDPOINT_KEYS = 'cluster,identity,labels,namespace,pod,workload';
const FENCE_KEYS = 'name,reason,verdict';

/** Reads one evidence line back, insisting it is in canonical form (re-encoding gives the same bytes). */
export function parseEvidenceLine(line: string): CanonicalFlow {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new EvidenceLineError(`not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EvidenceLineError('not a JSON object');
  const o = v as Record<string, unknown>;
  // A canonical line has its keys in order already; sorting is only for the others.
  const keys = Object.keys(o);
  const order = keys.join(',');
  if (order !== KEYS && keys.sort().join(',') !== KEYS) throw new EvidenceLineError(`fields must be exactly ${KEYS}`);
  const fence = o.fence as Record<string, unknown> | null;
  const ok = isStr(o.time) && TIME.test(o.time) && isStr(o.uuid) && isStr(o.node) && isStr(o.point) && isStr(o.proto)
    && isStr(o.srcIp) && isUint(o.srcPort) && isStr(o.dstIp) && isUint(o.dstPort) && checkEndpoint(o.src) && checkEndpoint(o.dst)
    && isStr(o.verdict) && isCount(o.packets) && isCount(o.bytes) && (o.packets === null) === (o.bytes === null) && isStr(o.path)
    && (fence === null || (typeof fence === 'object' && Object.keys(fence).sort().join(',') === FENCE_KEYS
      && ['COMPLIANT', 'VIOLATION', 'UNVERIFIED'].includes(fence.verdict as string) && isStr(fence.name) && isStr(fence.reason)));
  if (!ok) throw new EvidenceLineError('a field has the wrong type or form');
  // With its keys in canonical order at every level and these types, the parsed value
  // written out again is what canonicalLine writes for it (both write each value with
  // JSON.stringify), and costs one native call instead of a rebuilt line.
  const inOrder = order === KEYS && Object.keys(o.src as object).join(',') === ENDPOINT_KEYS
    && Object.keys(o.dst as object).join(',') === ENDPOINT_KEYS && (fence === null || Object.keys(fence).join(',') === FENCE_KEYS);
  if (!inOrder || JSON.stringify(v) !== line) throw new EvidenceLineError('not in canonical form (key order, whitespace or number form)');
  return v as CanonicalFlow;
}

/**
 * The fields a checker needs: the fast scan, else the full parse, which throws
 * EvidenceLineError for a line not in canonical form.
 */
export function evidenceFields(line: string): TallyFlow & { srcLabels: string } {
  const scanned = scanEvidenceLine(line);
  if (scanned) return scanned;
  const f = parseEvidenceLine(line);
  return { ...f, srcLabels: JSON.stringify(f.src.labels) };
}
