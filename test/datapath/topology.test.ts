import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Topology } from './harness/topology';
import { requireDatapath } from './harness/require';

describe('datapath harness: namespace topology', function () {
  requireDatapath(this);
  let topo: Topology;

  beforeEach(() => {
    topo = new Topology(`ciltopo${process.pid}`);
  });
  afterEach(() => topo.destroy());

  it('links two hosts that reach each other, and leaves nothing behind', () => {
    const a = topo.addHost('a');
    const b = topo.addHost('b');
    const link = topo.link({ ns: a, ifname: 'eth0', addr: '10.99.0.1/30' }, { ns: b, ifname: 'eth0', addr: '10.99.0.2/30' });
    assert.ok(link.a.ifindex > 0 && link.b.ifindex > 0);
    assert.match(link.b.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const out = topo.exec(a, 'ping', ['-c', '1', '-W', '2', '10.99.0.2']);
    assert.match(out, /1 received/);
    topo.destroy();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.ok(!left.includes(topo.prefix), `namespaces left behind: ${left}`);
  });
});
