// `cillion observe` flags -> the exact GetFlowsRequest, following the hubble CLI's rules.
import assert from 'node:assert/strict';
import { FlowFilter, GeofenceVerdict, TrafficDirection, Verdict, WanPathType, type DeepPartial } from '../../../proto/gen/flow/flow';
import { parseObserveArgs } from '../../../cli/commands/observe';
import { FlagError } from '../../../observer/filters/flags';

const NOW = new Date('2026-11-22T18:30:00.000Z');
const req = (...args: string[]) => parseObserveArgs(args, NOW).request;
const ff = (f: DeepPartial<FlowFilter>) => FlowFilter.fromPartial(f as FlowFilter);

describe('cli observe: flags -> GetFlowsRequest', () => {
  it('defaults to the last 20 flows of the relay at 127.0.0.1:4245', () => {
    const inv = parseObserveArgs([], NOW);
    assert.equal(inv.address, '127.0.0.1:4245');
    assert.equal(inv.request.number, 20n);
    assert.equal(inv.request.first, false);
    assert.equal(inv.request.follow, false);
    assert.deepEqual(inv.request.whitelist, []);
    assert.deepEqual(inv.request.blacklist, []);
  });

  it('--node alone is the local collector socket; --node PATH and --server are taken as given', () => {
    assert.equal(parseObserveArgs(['--node'], NOW).address, 'unix:///var/run/cillion/observer.sock');
    assert.equal(parseObserveArgs(['--node', 'unix:///tmp/o.sock'], NOW).address, 'unix:///tmp/o.sock');
    assert.equal(parseObserveArgs(['--server', 'relay:4245'], NOW).address, 'relay:4245');
  });

  it('--last, --first, --all, --follow and --since/--until set number, first, follow and times', () => {
    assert.equal(req('--last', '5').number, 5n);
    assert.deepEqual([req('--first', '7').number, req('--first', '7').first], [7n, true]);
    assert.equal(req('--all').number, 2n ** 64n - 1n);
    const f = req('-f');
    assert.deepEqual([f.number, f.follow], [0n, true]);
    const s = req('--since', '1h30m', '--until', '2026-11-22T18:29:59.123456789+01:00');
    assert.equal(s.number, 0n);
    assert.deepEqual(s.since, { seconds: BigInt(Date.parse('2026-11-22T17:00:00Z') / 1000), nanos: 0 });
    assert.deepEqual(s.until, { seconds: BigInt(Date.parse('2026-11-22T17:29:59Z') / 1000), nanos: 123456789 });
    assert.deepEqual(req('--since', '1.5s').since, { seconds: BigInt(Date.parse('2026-11-22T18:29:58Z') / 1000), nanos: 500_000_000 });
    assert.throws(() => req('--since', 'yesterday'), FlagError);
    assert.throws(() => req('--last', '1', '--all'), FlagError);
  });

  it('from-/to- flags narrow one filter (AND)', () => {
    const r = req('--from-pod', 'billing/api', '--to-ip', '10.2.0.0/16', '--to-port', '443', '--protocol', 'tcp');
    assert.deepEqual(r.whitelist, [
      ff({ sourcePod: ['billing/api'], destinationIp: ['10.2.0.0/16'], destinationPort: ['443'], protocol: ['tcp'] }),
    ]);
  });

  it('either-direction flags become a source filter OR-ed with a destination filter', () => {
    const r = req('--ip', '10.0.0.1', '--verdict', 'DROPPED');
    assert.deepEqual(r.whitelist, [
      ff({ sourceIp: ['10.0.0.1'], verdict: [Verdict.DROPPED] }),
      ff({ destinationIp: ['10.0.0.1'], verdict: [Verdict.DROPPED] }),
    ]);
    const l = req('-l', 'app=api', '--identity', '1234');
    assert.deepEqual(l.whitelist, [ff({ sourceLabel: ['app=api'], sourceIdentity: [1234] }), ff({ destinationLabel: ['app=api'], destinationIdentity: [1234] })]);
  });

  it('--from-cluster/--to-cluster set the endpoint cluster names; an empty name is refused', () => {
    const r = req('--from-cluster', 'frankfurt', '--from-label', 'app=billing', '--to-cluster', 'zurich');
    assert.deepEqual(r.whitelist, [ff({ sourceClusterName: ['frankfurt'], sourceLabel: ['app=billing'], destinationClusterName: ['zurich'] })]);
    assert.deepEqual(req('--not', '--from-cluster', 'frankfurt').blacklist, [ff({ sourceClusterName: ['frankfurt'] })]);
    assert.throws(() => req('--to-cluster', ''), /--to-cluster: empty cluster name/);
  });

  it('namespaces qualify pod names or select whole namespaces, as hubble does', () => {
    assert.deepEqual(req('-n', 'billing').whitelist, [ff({ sourcePod: ['billing/'] }), ff({ destinationPod: ['billing/'] })]);
    assert.deepEqual(req('--from-namespace', 'a', '--to-pod', 'b/db').whitelist, [ff({ sourcePod: ['a/'], destinationPod: ['b/db'] })]);
    assert.deepEqual(req('--to-namespace', 'shop', '--to-pod', 'db').whitelist, [ff({ destinationPod: ['shop/db'] })]);
  });

  it('--not sends only the next filter flag to the deny list, in command-line order', () => {
    const r = req('--from-pod', 'billing/', '--not', '--verdict', 'DROPPED', '--to-port', '443');
    assert.deepEqual(r.whitelist, [ff({ sourcePod: ['billing/'], destinationPort: ['443'] })]);
    assert.deepEqual(r.blacklist, [ff({ verdict: [Verdict.DROPPED] })]);
    const n = req('--not', '--ip', '10.0.0.1');
    assert.deepEqual(n.whitelist, []);
    assert.deepEqual(n.blacklist, [ff({ sourceIp: ['10.0.0.1'] }), ff({ destinationIp: ['10.0.0.1'] })]);
    assert.throws(() => req('--not', '--not', '--ip', '10.0.0.1'));
    assert.throws(() => req('--ip', '10.0.0.1', '--not'), FlagError);
  });

  it('path and geofence flags land in Cillion\'s FlowFilter fields', () => {
    const r = req('--src-ia', '1-ff00:0:110', '--dst-ia', '2-0', '--through-ia', '1-ff00:0:120', '--through-isd', '1',
      '--through-country', 'DE', '--path', 'a3f1', '--geofence-verdict', 'violation', '--geofence', 'billing/eu-only');
    assert.deepEqual(r.whitelist, [ff({
      srcIa: ['1-ff00:0:110'], dstIa: ['2-0'], throughIa: ['1-ff00:0:120'], throughIsd: [1], throughCountry: ['DE'],
      pathFingerprint: ['a3f1'], geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION], geofenceName: ['billing/eu-only'],
    })]);
  });

  it('--through-sid and --path-type land in the SRv6 FlowFilter fields; a bad kind is refused', () => {
    const r = req('--through-sid', 'fc00:0:3::/48', '--through-sid', 'fc00:0:1::1', '--path-type', 'SRv6', '--through-country', 'AT');
    assert.deepEqual(r.whitelist, [ff({ throughSid: ['fc00:0:3::/48', 'fc00:0:1::1'], pathType: [WanPathType.WAN_PATH_SRV6], throughCountry: ['AT'] })]);
    assert.deepEqual(req('--not', '--path-type', 'scion').blacklist, [ff({ pathType: [WanPathType.WAN_PATH_SCION] })]);
    assert.throws(() => req('--path-type', 'mpls'), /--path-type: want scion or srv6, got "mpls"/);
    assert.throws(() => req('--through-sid', ''), /--through-sid: empty SID/);
  });

  it('--cluster (repeatable) is Hubble\'s node_name <cluster>/*; --not --cluster denies it', () => {
    assert.deepEqual(req('--cluster', 'zurich', '--cluster', 'frank*').whitelist, [ff({ nodeName: ['zurich/*', 'frank*/*'] })]);
    assert.deepEqual(req('--not', '--cluster', 'zurich').blacklist, [ff({ nodeName: ['zurich/*'] })]);
    assert.throws(() => req('--cluster', 'zurich/node-a'), /cluster name, without/);
    assert.throws(() => req('--cluster', ''), /empty cluster name/);
  });

  it('type, node name, direction, TCP flags and IP version', () => {
    const r = req('-t', 'trace:to-endpoint', '-t', 'drop', '--node-name', 'zrh-*', '--traffic-direction', 'egress', '--tcp-flags', 'syn,ack');
    assert.deepEqual(r.whitelist, [ff({
      eventType: [{ type: 4, matchSubType: true, subType: 0 }, { type: 1 }],
      nodeName: ['zrh-*'],
      trafficDirection: [TrafficDirection.EGRESS],
      tcpFlags: [{ SYN: true, ACK: true }],
    })]);
    assert.throws(() => req('--type', 'bogus'));
    assert.throws(() => req('--from-identity', 'web'));
  });

  it('output options', () => {
    const p = parseObserveArgs(['-o', 'json', '--print-node-name', '--color', 'never', '--time-format', 'RFC3339Nano'], NOW).print;
    assert.deepEqual(p, { output: 'json', printNodeName: true, color: 'never', timeFormat: 'RFC3339Nano' });
    assert.throws(() => parseObserveArgs(['-o', 'yaml'], NOW));
  });
});
