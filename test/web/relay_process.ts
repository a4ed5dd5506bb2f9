// The load test's relay in a process of its own (forked by load.test.ts), as a relay runs:
// in the test's process it would share one event loop with playwright, whose client
// certificate proxy carries every byte the page reads. It starts the browser tests' relay
// without a store, says where it serves and with which certificates, and on "close" stops
// and reports the CPU it used since it was ready and the flows its followers lost to full queues.
import { NODES, startWebTestRelay, type BrowserCert } from './test_relay';

export type RelayProcessMessage =
  | { kind: 'ready'; url: string; address: string; ca: string; attester: BrowserCert; collectors: Array<{ node: string; cluster: string } & BrowserCert> }
  | { kind: 'closed'; cpuSeconds: number; followerLost: number }
  | { kind: 'failed'; error: string };

const say = (m: RelayProcessMessage): void => {
  process.send?.(m);
};

if (require.main === module) {
  startWebTestRelay({ store: false }).then(
    (demo) => {
      const cpu = process.cpuUsage();
      let closing: Promise<void> | undefined;
      const stop = (): Promise<void> => (closing ??= demo.close());
      process.once('message', () => {
        const used = process.cpuUsage(cpu);
        const followerLost = Number(demo.relay.hub.followerLost);
        void stop().then(() => {
          say({ kind: 'closed', cpuSeconds: (used.user + used.system) / 1e6, followerLost });
          process.disconnect?.();
        });
      });
      // The test went away (or is done): nothing else stops this process.
      process.once('disconnect', () => void stop().then(() => process.exit(0)));
      say({
        kind: 'ready',
        url: demo.url,
        address: demo.relay.address.replace('127.0.0.1', 'localhost'),
        ca: demo.ca,
        attester: demo.attester,
        collectors: NODES.map((n) => ({ ...n, ...demo.collectorCert(n.node) })),
      });
    },
    (e: Error) => {
      say({ kind: 'failed', error: e.message });
      process.disconnect?.();
    },
  );
}
