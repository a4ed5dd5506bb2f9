// A worker thread checking runs of evidence lines for verify (line_checker.ts); started by
// LineCheckerPool with the predicate's window, selector and paths as its workerData. Its
// rules (and their selector cache) serve every run it is given.
import { parentPort, workerData } from 'node:worker_threads';
import { LineChecker, LineRules, type LineCheckSetup } from './line_checker';

const rules = new LineRules(workerData as LineCheckSetup);
parentPort?.on('message', (m: { batch: Uint8Array; first: number }) => {
  const checker = new LineChecker(rules, m.first);
  checker.lines(Buffer.from(m.batch.buffer, m.batch.byteOffset, m.batch.byteLength));
  parentPort?.postMessage(checker.result());
});
