// Child process for the store's crash test: stores numbered batches of one session into the
// data directory given as argv[2] until it is killed, printing each sequence once stored.
import { openStore } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';

export const CRASH_BATCH_FLOWS = 400;

async function main(): Promise<void> {
  const store = await openStore({ dataDir: process.argv[2] });
  // One node's session: every flow of a batch is the batch's node's, as the relay makes it.
  const corpus = makeCorpus(CRASH_BATCH_FLOWS * 4, 3).map((f) => ({ ...f, nodeName: 'n1' }));
  for (let seq = 1n; ; seq++) {
    const at = Number(seq % 4n) * CRASH_BATCH_FLOWS;
    await store.insertBatch({ sessionId: 'crash', sequence: seq, nodeName: 'n1', flows: corpus.slice(at, at + CRASH_BATCH_FLOWS) });
    process.stdout.write(`stored ${seq}\n`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
