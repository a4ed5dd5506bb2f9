import assert from 'node:assert/strict';
import { LinkWatch } from '../../operator/node/linkwatch';
import { until } from '../until';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';

describe('LinkWatch (uplink carrier)', function () {
  requireDatapath(this);
  this.timeout(20000);
  let topo: Topology;

  before(() => {
    topo = new Topology(`cillw${process.pid}`);
  });
  after(() => topo.destroy());

  it('reports a link that loses its carrier and gets it back, once each', async () => {
    const node = topo.addHost('node');
    const router = topo.addHost('rtr');
    topo.link({ ns: node, ifname: 'up1' }, { ns: router, ifname: 'r1' });
    topo.link({ ns: node, ifname: 'up2' }, { ns: router, ifname: 'r2' });
    const seen: Array<[number, boolean]> = [];
    const watch = new LinkWatch({
      links: [{ ifid: 1, device: 'up1' }, { ifid: 2, device: 'up2' }],
      netns: node,
      intervalMs: 50,
      onChange: (ifid, up) => seen.push([ifid, up]),
    });
    await watch.start();
    try {
      await watch.check();
      assert.deepEqual(seen, [], 'no change, no report');
      // The polling alone reports each change; a check after it proves it was reported once.
      topo.exec(router, 'ip', ['link', 'set', 'r1', 'down']);
      await until('the polling to report uplink 1 down', () => seen.length >= 1);
      await watch.check();
      assert.deepEqual(seen, [[1, false]]);
      topo.exec(router, 'ip', ['link', 'set', 'r1', 'up']);
      await until('the polling to report uplink 1 up', () => seen.length >= 2);
      await watch.check();
      assert.deepEqual(seen, [[1, false], [1, true]]);
      // A check sees a change made before it without waiting for the interval.
      topo.exec(router, 'ip', ['link', 'set', 'r2', 'down']);
      await watch.check();
      assert.deepEqual(seen.slice(2), [[2, false]]);
    } finally {
      await watch.stop();
    }
  });
});
