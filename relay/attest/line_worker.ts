// A worker thread checking runs of evidence lines for verify (line_checker.ts); started by
// LineCheckerPool with the predicate's window, selector and paths as its workerData.
import { parentPort, workerData } from 'node:worker_threads';
import { LineChecker, type LineCheckSetup } from './line_checker';

const setup = workerData as LineCheckSetup;
parentPort?.on('message', (m: { batch: Uint8Array; first: number }) => {
  const checker = new LineChecker(setup);
  checker.batch(Buffer.from(m.batch.buffer, m.batch.byteOffset, m.batch.byteLength), m.first);
  parentPort?.postMessage(checker.result());
});
