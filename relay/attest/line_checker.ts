// The per-line part of verifying evidence: each line's form, order, window, selector and
// path, and the tally of the lines that pass. It checks one run of consecutive lines, so
// runs can be checked in worker threads and their results merged in order (the order
// across two runs is checked at the merge, from their first and last lines). Hashing stays
// with the reader of the file.
import { parseFlowLabels, parseLabelSelector, selectorMatches, type LabelSelector } from '../../observer/filters/label_selector';
import { EvidenceLineError, parseEvidenceLine } from './canonical_flow';
import { Tally, type TallyPart } from './predicate';

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
  /** In line order, at most MAX_LINE_FAILURES per check. */
  failures: LineFailure[];
  /** Every failure per check, listed or not. */
  counts: Record<string, number>;
  /** The first and last lines that parsed, for the order across runs. */
  first?: ParsedLine;
  last?: ParsedLine;
  unknownPath: boolean;
}

function lineSelector(selector: string): LabelSelector | undefined {
  try {
    return parseLabelSelector(selector);
  } catch {
    // verify reports the predicate's selector once; lines are then not checked against it.
    return undefined;
  }
}

export class LineChecker {
  private readonly tally = new Tally();
  private readonly paths: Set<string>;
  private readonly selector: LabelSelector | undefined;
  // Whether each source label set matches the selector: a few hundred sets for a million lines.
  private readonly matches = new Map<string, boolean>();
  private readonly failures: LineFailure[] = [];
  private readonly counts: Record<string, number> = {};
  private first: ParsedLine | undefined;
  private prev: ParsedLine | undefined;
  private unknownPath = false;

  constructor(private readonly setup: LineCheckSetup) {
    this.paths = new Set(setup.paths);
    this.selector = lineSelector(setup.selector);
  }

  private fail(check: string, index: number, message: string): void {
    const seen = (this.counts[check] ?? 0) + 1;
    this.counts[check] = seen;
    if (seen <= MAX_LINE_FAILURES) this.failures.push({ check, index, message });
  }

  line(raw: Buffer, index: number): void {
    const text = raw.toString('utf8');
    let c;
    try {
      c = parseEvidenceLine(text);
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
    const w = this.setup.window;
    if (c.time < w.from || c.time >= w.to) this.fail('evidence.window', index, `time ${c.time} is outside the window [${w.from}, ${w.to})`);
    if (this.selector) {
      const labels = c.src.labels.join('\n');
      let ok = this.matches.get(labels);
      if (ok === undefined) this.matches.set(labels, (ok = selectorMatches(this.selector, parseFlowLabels(c.src.labels))));
      if (!ok) this.fail('evidence.selector', index, `source labels do not match "${this.setup.selector}"`);
    }
    if (c.path !== '' && !this.paths.has(c.path)) {
      this.unknownPath = true;
      this.fail('evidence.paths', index, `path ${c.path} is not in the predicate's paths`);
      return;
    }
    this.tally.add(c, index);
  }

  /** Every line of `batch` (lines end in a newline; a last one without is a line too), numbered from `first`. */
  batch(batch: Buffer, first: number): void {
    let from = 0;
    let index = first;
    for (let nl = batch.indexOf(10); nl >= 0; nl = batch.indexOf(10, from)) {
      this.line(batch.subarray(from, nl), index++);
      from = nl + 1;
    }
    if (from < batch.length) this.line(batch.subarray(from), index);
  }

  result(): CheckedRun {
    return { tally: this.tally.part(), failures: this.failures, counts: this.counts, first: this.first, last: this.prev, unknownPath: this.unknownPath };
  }
}

export const ORDER_MESSAGE = 'not after the previous line (order is time, then line text)';
