// `cillion router`'s interface table from a topology file and what iproute2 reports, with the
// namespace played by a fake host. The topology is written out here: two ASes, one link.
import assert from 'node:assert/strict';
import { parseTopology } from '../../../controlplane/topology';
import { parseIA } from '../../../scion/isdas';
import { parseIfOption, resolveInterfaces, RouterConfigError, type DeviceAddress, type RouterHost } from '../../../cli/commands/router';

const TOPOLOGY = `
ases:
  - ia: 1-ff00:0:110
    core: true
    masterKey: ceD4b5+bXmlmw36kv0o3nA==
    interfaces:
      1: { latitude: 47.4, longitude: 8.5, address: "Zurich", country: CH, underlay: "10.9.0.1:50001" }
      2: { latitude: 47.4, longitude: 8.5, address: "Zurich", country: CH }
  - ia: 1-ff00:0:111
    masterKey: 8OOBEyjraVzSDUq8DMWEDQ==
    interfaces:
      7: { latitude: 46.2, longitude: 6.1, address: "Geneva", country: CH, underlay: "10.9.0.2:50007" }
  - ia: 1-ff00:0:112
    masterKey: iIvCTrCzcoNMDUYmuCK4Rw==
    interfaces:
      3: { latitude: 46.2, longitude: 6.1, address: "Geneva", country: CH }
links:
  - { a: "1-ff00:0:110#1", b: "1-ff00:0:111#7", type: PARENT, latencyMs: 1, bandwidthKbps: 1000 }
  - { a: "1-ff00:0:110#2", b: "1-ff00:0:112#3", type: PARENT, latencyMs: 1, bandwidthKbps: 1000 }
`;

function host(devices: Record<string, DeviceAddress>, neighbours: Record<string, string>): RouterHost & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    devices: () => new Map(Object.entries(devices)),
    neighbourMac: (dev, ip) => {
      asked.push(`${dev} ${ip}`);
      return neighbours[`${dev} ${ip}`];
    },
  };
}

describe('cli/commands/router: interfaces from the topology and the namespace', () => {
  const topology = parseTopology(TOPOLOGY);
  const core = parseIA('1-ff00:0:110');
  const eth = { ifindex: 4, mac: '02:00:00:00:00:01', addrs: ['10.9.0.1'] };

  it('serves each interface with an underlay on the device holding its address, towards the remote underlay', () => {
    const h = host({ lo: { ifindex: 1, mac: '00:00:00:00:00:00', addrs: ['127.0.0.1'] }, eth0: eth }, { 'eth0 10.9.0.2': '02:00:00:00:00:02' });
    const [f, ...rest] = resolveInterfaces(topology, core, new Map(), h);
    assert.equal(rest.length, 0, 'interface 2 has no underlay and is not served');
    assert.deepEqual(f, {
      ifid: 1,
      device: 'eth0',
      remote: '1-ff00:0:111#7',
      entry: { ifindex: 4, localIp: '10.9.0.1', localPort: 50001, localMac: '02:00:00:00:00:01', remoteIp: '10.9.0.2', remotePort: 50007, remoteMac: '02:00:00:00:00:02' },
    });
    assert.deepEqual(h.asked, ['eth0 10.9.0.2']);
  });

  it('takes the device and port of --if over the underlay', () => {
    const h = host({ eth0: eth, eth9: { ifindex: 9, mac: '02:00:00:00:00:09', addrs: ['10.9.9.1'] } }, { 'eth9 10.9.0.2': '02:00:00:00:00:02' });
    const [f] = resolveInterfaces(topology, core, new Map([parseIfOption('1=eth9:6000')]), h);
    assert.equal(f.device, 'eth9');
    assert.equal(f.entry.localIp, '10.9.9.1');
    assert.equal(f.entry.localPort, 6000);
    assert.deepEqual(parseIfOption('2=veth-a'), [2, { device: 'veth-a' }]);
    assert.throws(() => parseIfOption('eth0'), /IFID=DEVICE/);
  });

  it('says what is missing: the AS, an interface, the device, the remote underlay, the neighbour', () => {
    const ok = host({ eth0: eth }, { 'eth0 10.9.0.2': '02:00:00:00:00:02' });
    assert.throws(() => resolveInterfaces(topology, parseIA('1-ff00:0:999'), new Map(), ok), /not in the topology/);
    assert.throws(() => resolveInterfaces(topology, core, new Map([parseIfOption('5=eth0')]), ok), /has no interface 5/);
    assert.throws(() => resolveInterfaces(topology, core, new Map(), host({}, {})), /no device holds its underlay address 10\.9\.0\.1/);
    assert.throws(() => resolveInterfaces(topology, core, new Map([parseIfOption('2=eth0')]), ok), /no underlay for its remote end 1-ff00:0:112#3/);
    assert.throws(() => resolveInterfaces(topology, core, new Map(), host({ eth0: eth }, {})), /cannot resolve the MAC of 10\.9\.0\.2 on eth0/);
    assert.throws(() => resolveInterfaces(topology, parseIA('1-ff00:0:112'), new Map(), ok), RouterConfigError);
  });
});
