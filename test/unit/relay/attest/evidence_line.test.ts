import assert from 'node:assert/strict';
import { Flow, GeofenceVerdict } from '../../../../proto/gen/flow/flow';
import { canonicalFlow, canonicalLine, type CanonicalFlow } from '../../../../relay/attest/canonical_flow';
import { EvidenceLineError, parseEvidenceLine, scanEvidenceLine, type ScannedLine } from '../../../../relay/attest/evidence_line';
import { makeCorpus } from '../store/corpus';

/** What the checks read, from the full parse, in the scanner's terms. */
function fromParse(c: CanonicalFlow): ScannedLine {
  const count = (v: string | null): number | string | null => (v === null ? null : v.length > 15 ? v : Number(v));
  return { time: c.time, uuid: c.uuid, path: c.path, packets: count(c.packets), bytes: count(c.bytes), fence: c.fence, srcLabels: JSON.stringify(c.src.labels) };
}

function parsed(line: string): CanonicalFlow | undefined {
  try {
    return parseEvidenceLine(line);
  } catch (e) {
    if (!(e instanceof EvidenceLineError)) throw e;
    return undefined;
  }
}

/** The scanner's promise: what it accepts, the full parse accepts, and both read the same. */
function agrees(line: string): boolean {
  const s = scanEvidenceLine(line);
  if (s === undefined) return false;
  const c = parsed(line);
  assert.ok(c, `the scanner took a line the full parse refuses: ${line}`);
  assert.deepEqual(s, fromParse(c));
  return true;
}

const odd = Flow.fromPartial({
  time: { seconds: 1_795_348_800n, nanos: 5 },
  uuid: 'u-1',
  source: { identity: 0, labels: ['k8s:a=ü', 'k8s:b=\u2028', 'k8s:c=😀', 'k8s:d=\u007f'], podName: 'p' },
  destination: { identity: 123_456_789_012_345, labels: [] },
  geofence: { verdict: GeofenceVerdict.GEOFENCE_UNVERIFIED, name: 'fence é', reason: '' },
  meter: { packets: 0n, bytes: 123_456_789_012_345_678n },
});

describe('relay/attest evidence lines read by the canonical-layout pattern', () => {
  it('reads every corpus line, and odd text and counts, as the full parse does', () => {
    for (const f of makeCorpus(2000, 5)) assert.ok(agrees(canonicalLine(canonicalFlow(f))));
    assert.ok(agrees(canonicalLine(canonicalFlow(odd))));
    assert.ok(agrees(canonicalLine(canonicalFlow(Flow.fromPartial({ time: { seconds: 0n, nanos: 0 } })))));
  });

  it('leaves to the full parse a canonical line whose strings need escapes, or whose numbers are long', () => {
    for (const label of ['k8s:a="x"', 'k8s:a=\\', 'k8s:a=\n', 'k8s:a=\u0001', 'k8s:a=\ud800']) {
      const line = canonicalLine(canonicalFlow(Flow.fromPartial({ ...odd, source: { labels: [label] } })));
      assert.equal(scanEvidenceLine(line), undefined, line);
      assert.ok(parsed(line), line);
    }
    const long = canonicalLine(canonicalFlow(Flow.fromPartial({ ...odd, source: { identity: 1_000_000_000_000_000 } })));
    assert.equal(scanEvidenceLine(long), undefined);
    assert.ok(parsed(long));
  });

  it('never takes a line the full parse refuses: every one-character change of a line', () => {
    const lines = [canonicalLine(canonicalFlow(odd)), canonicalLine(canonicalFlow(makeCorpus(1, 3)[0]))];
    let taken = 0;
    for (const line of lines) {
      for (let i = 0; i <= line.length; i++) {
        for (const v of [line.slice(0, i) + line.slice(i + 1), `${line.slice(0, i)} ${line.slice(i)}`, `${line.slice(0, i)}0${line.slice(i)}`, `${line.slice(0, i)}"${line.slice(i + 1)}`, `${line.slice(0, i)}\\${line.slice(i)}`]) {
          if (agrees(v)) taken++;
        }
      }
    }
    // Some changes stay canonical (a character more or less inside a string); those are read as the full parse reads them.
    assert.ok(taken > 0);
  });

  it('refuses counts and integers in any but their shortest form, and a meter half there', () => {
    const line = canonicalLine(canonicalFlow(odd));
    for (const bad of [
      line.replace('"packets":"0"', '"packets":"00"'),
      line.replace('"packets":"0"', '"packets":0'),
      line.replace('"packets":"0"', '"packets":null'),
      line.replace('"identity":0', '"identity":00'),
      line.replace('"identity":0', '"identity":-0'),
      line.replace('"identity":0', '"identity":0.0'),
      line.replace('"srcPort":0', '"srcPort":1e3'),
      line.replace('"verdict":"UNVERIFIED"', '"verdict":"FINE"'),
      line.replace('.000000005Z', '.5Z'),
      `${line} `,
    ]) {
      assert.notEqual(bad, line);
      assert.equal(scanEvidenceLine(bad), undefined, bad);
      assert.equal(parsed(bad), undefined, bad);
    }
  });
});
