// The per-line part of verifying evidence: each line's Merkle leaf, its form, order,
// window, selector and path, and the tally of the lines that pass. It checks one run of
// consecutive lines, so runs can be checked in worker threads and their results merged in
// order (the order across two runs is checked at the merge, from their first and last
// lines; the run's leaves come back as aligned subtrees of the Merkle tree). The file hash
// stays with the reader of the file.
import { isUtf8 } from 'node:buffer';
import { parseFlowLabels, parseLabelSelector, selectorMatches, type LabelRequirements } from '../../observer/filters/label_selector';
import { EvidenceLineError, evidenceFields } from './evidence_line';
import { leafHash, leafHashAt, MerkleRun, type Subtree } from './merkle';
import { PredicateTally, type TallyFlow, type TallyPart } from './predicate';

/** Lines with problems reported one by one before the rest are only counted. */
export const MAX_LINE_FAILURES = 10;

export interface LineCheckSetup {
  window: { from: string; to: string };
  selector: string;
  /** Fingerprints of the predicate's paths. */
  paths: string[];
}

export interface LineFailure {
  check: string;
  /** Line number, from 0. */
  index: number;
  message: string;
}

export interface ParsedLine {
  index: number;
  time: string;
  text: string;
}

export interface CheckedRun {
  tally: TallyPart;
  /** The run's Merkle leaves as aligned perfect subtrees, in order (MerkleRun). */
  subtrees: Subtree[];
  /** In line order, at most MAX_LINE_FAILURES per check. */
  failures: LineFailure[];
  /** Every failure per check, listed or not. */
  counts: Record<string, number>;
  /** The first and last lines that parsed, for the order across runs. */
  first?: ParsedLine;
  last?: ParsedLine;
  unknownPath: boolean;
}

function lineSelector(selector: string): LabelRequirements | undefined {
  try {
    return parseLabelSelector(selector);
  } catch {
    // verify reports the predicate's selector once; lines are then not checked against it.
    return undefined;
  }
}

/** What every run checks lines against, built once per thread with its caches. */
export class LineRules {
  readonly paths: Set<string>;
  readonly selector: LabelRequirements | undefined;
  // Whether each source label set (as its JSON text) matches: a few hundred sets for a million lines.
  private readonly matches = new Map<string, boolean>();

  constructor(readonly setup: LineCheckSetup) {
    this.paths = new Set(setup.paths);
    this.selector = lineSelector(setup.selector);
  }

  selects(labelsJson: string): boolean {
    let ok = this.matches.get(labelsJson);
    if (ok === undefined) this.matches.set(labelsJson, (ok = selectorMatches(this.selector as LabelRequirements, parseFlowLabels(JSON.parse(labelsJson) as string[]))));
    return ok;
  }
}

/** A line that checks as canonical: the scanner's reading, or the full parse's. */
type LineFields = TallyFlow & { srcLabels: string };

/**
 * A copy of `s` that does not keep the line it was cut from alive (V8 shares a substring's
 * characters with its parent): the flow lists keep four strings of most flows.
 */
const own = (s: string): string => (` ${s}`).slice(1);

export class LineChecker {
  private readonly tally = new PredicateTally();
  private readonly merkle: MerkleRun;
  private readonly failures: LineFailure[] = [];
  private readonly counts: Record<string, number> = {};
  private first: ParsedLine | undefined;
  private prev: ParsedLine | undefined;
  private unknownPath = false;

  /** A run of lines numbered from `next`. */
  constructor(private readonly rules: LineRules, private next: number) {
    this.merkle = new MerkleRun(next);
  }

  private fail(check: string, index: number, message: string): void {
    const seen = (this.counts[check] ?? 0) + 1;
    this.counts[check] = seen;
    if (seen <= MAX_LINE_FAILURES) this.failures.push({ check, index, message });
  }

  /** The line buf[start, end), without its newline; hashed in place when a byte precedes it. */
  private line(buf: Buffer, start: number, end: number): void {
    const index = this.next++;
    this.merkle.addLeafHash(start > 0 ? leafHashAt(buf, start, end) : leafHash(buf.subarray(start, end)));
    const text = buf.toString('utf8', start, end);
    // Decoding puts U+FFFD for a bad sequence, which would hide it; canonical lines are UTF-8.
    if (text.includes('\ufffd') && !isUtf8(buf.subarray(start, end))) {
      this.fail('evidence.format', index, 'not UTF-8 text');
      return;
    }
    let c: LineFields;
    try {
      c = evidenceFields(text);
    } catch (e) {
      if (!(e instanceof EvidenceLineError)) throw e;
      this.fail('evidence.format', index, e.message);
      return;
    }
    const prev = this.prev;
    if (prev !== undefined && (c.time < prev.time || (c.time === prev.time && text < prev.text))) {
      this.fail('evidence.order', index, ORDER_MESSAGE);
    }
    this.prev = { index, time: c.time, text };
    this.first ??= this.prev;
    const w = this.rules.setup.window;
    if (c.time < w.from || c.time >= w.to) this.fail('evidence.window', index, `time ${c.time} is outside the window [${w.from}, ${w.to})`);
    if (this.rules.selector && !this.rules.selects(c.srcLabels)) this.fail('evidence.selector', index, `source labels do not match "${this.rules.setup.selector}"`);
    if (c.path !== '' && !this.rules.paths.has(c.path)) {
      this.unknownPath = true;
      this.fail('evidence.paths', index, `path ${c.path} is not in the predicate's paths`);
      return;
    }
    const f = c.fence;
    if (f !== null && f.verdict !== 'COMPLIANT') c = { ...c, time: own(c.time), uuid: own(c.uuid), fence: { verdict: f.verdict, name: own(f.name), reason: own(f.reason) } };
    this.tally.add(c, index);
  }

  /** Every line of buf[from, to) (lines end in a newline; a last one without is a line too). */
  lines(buf: Buffer, from = 0, to = buf.length): void {
    let at = from;
    for (let nl = buf.indexOf(10, at); nl >= 0 && nl < to; nl = buf.indexOf(10, at)) {
      this.line(buf, at, nl);
      at = nl + 1;
    }
    if (at < to) this.line(buf, at, to);
  }

  /** The number the next line gets. */
  get nextIndex(): number {
    return this.next;
  }

  result(): CheckedRun {
    return { tally: this.tally.part(), subtrees: this.merkle.subtrees(), failures: this.failures, counts: this.counts, first: this.first, last: this.prev, unknownPath: this.unknownPath };
  }
}

export const ORDER_MESSAGE = 'not after the previous line (order is time, then line text)';
