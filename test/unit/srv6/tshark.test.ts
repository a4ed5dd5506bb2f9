// Cross-check against an independent dissector: an IPv6 packet carrying our SRH (with an
// HMAC TLV) is written to a pcap and tshark must dissect it as Routing Header type 4 with
// the same fields, and find the inner IPv4/UDP packet right after it. tshark 4.0 does not
// dissect SRH TLVs, so for the HMAC TLV it checks the header length that covers it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { srhHmac } from '../../../srv6/hmac';
import { parseSid, sidText } from '../../../srv6/sid';
import { encodeSrh, srhOrder, type Srh } from '../../../srv6/srh';

const LINKTYPE_RAW = 101;

function pcap(packets: Uint8Array[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(LINKTYPE_RAW, 20);
  const recs = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  return Buffer.concat([head, ...recs]);
}

function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([ip, udp, payload]);
}

function ipv6(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000 | 0x12345, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = nextHeader;
  h[7] = 64;
  Buffer.from(src).copy(h, 8);
  Buffer.from(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function tsharkPath(): string | undefined {
  const r = spawnSync('tshark', ['-v'], { stdio: 'ignore' });
  return r.status === 0 ? 'tshark' : undefined;
}

describe('srv6/srh dissected by tshark', function () {
  this.timeout(60_000);
  let dir = '';
  before(function () {
    if (!tsharkPath()) {
      if (process.env.CILLION_REQUIRE_BPF === '1') throw new Error('tshark is required under CILLION_REQUIRE_BPF=1 (scripts/install-deps.sh installs it)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'srv6-tshark-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows routing type 4, Segments Left, Last Entry, the segment list and the inner IPv4/UDP', () => {
    const travel = ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::100'].map(parseSid);
    const source = parseSid('fc00:0:101::1');
    const key = Buffer.alloc(32, 0x5a);
    const base: Srh = { nextHeader: 4, segmentsLeft: 4, lastEntry: 4, flags: 0, tag: 0x0102, tlvs: [], segments: srhOrder(travel) };
    const mac = srhHmac(key, { source, lastEntry: 4, flags: 0, keyId: 1, segments: base.segments });
    const plain = encodeSrh(base);
    const signed = encodeSrh({ ...base, segmentsLeft: 2, hmac: { keyId: 1, dBit: false, mac } });
    const inner = ipv4Udp('10.164.0.5', '10.165.0.7', 40000, 5060, Buffer.from('srv6 tshark cross-check'));
    const file = join(dir, 'srh.pcap');
    // a third packet with Segments Left past the list shows the expert field is live
    const broken = Buffer.from(plain);
    broken[3] = 9;
    writeFileSync(file, pcap([
      ipv6(source, travel[0], 43, Buffer.concat([plain, inner])),
      ipv6(source, travel[2], 43, Buffer.concat([signed, inner])),
      ipv6(source, travel[0], 43, Buffer.concat([broken, inner])),
    ]));
    const fields = ['ipv6.nxt', 'ipv6.routing.type', 'ipv6.routing.segleft', 'ipv6.routing.srh.last_entry', 'ipv6.routing.len_oct',
      'ipv6.routing.srh.tag', 'ipv6.routing.srh.addr', 'ip.src', 'ip.dst', 'udp.dstport', '_ws.expert'];
    const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = out.trim().split('\n').map((l) => Object.fromEntries(l.split('|').map((v, i) => [fields[i], v])));
    assert.equal(rows.length, 3);
    assert.match(rows[2]['_ws.expert'], /segments left/i);
    const srhAddrs = base.segments.map(sidText).join(',');
    assert.equal(signed.length, plain.length + 40);
    for (const [row, sl, len] of [[rows[0], '4', String(plain.length)], [rows[1], '2', String(signed.length)]] as const) {
      assert.equal(row['ipv6.nxt'], '43');
      assert.equal(row['ipv6.routing.type'], '4');
      assert.equal(row['ipv6.routing.segleft'], sl);
      assert.equal(row['ipv6.routing.srh.last_entry'], '4');
      assert.equal(row['ipv6.routing.len_oct'], len);
      assert.equal(row['ipv6.routing.srh.tag'], '0102');
      assert.equal(row['ipv6.routing.srh.addr'], srhAddrs);
      assert.equal(row['ip.src'], '10.164.0.5');
      assert.equal(row['ip.dst'], '10.165.0.7');
      assert.equal(row['udp.dstport'], '5060');
      assert.equal(row['_ws.expert'], '', `tshark reports a problem: ${row['_ws.expert']}`);
    }
  });
});
