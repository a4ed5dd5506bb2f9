import assert from 'node:assert/strict';
import { deriveLevel1 } from '../../../../scion/drkey/derive';
import { checkIssuedEpoch, gridEpoch, inPrefetchPeriod, PREFETCH_PERIOD_SECONDS } from '../../../../scion/drkey/epoch';
import { DrkeyIssuer } from '../../../../scion/drkey/level1';
import { KEYS_PER_PEER, Level1Store, RETAIN_AFTER_END_SECONDS } from '../../../../scion/drkey/level1_store';
import { deriveSecretValue } from '../../../../scion/drkey/secret_value';
import { parseIA } from '../../../../scion/isdas';

const A = parseIA('64-2:0:20');
const B = parseIA('65-2:0:20');
const C = parseIA('66-2:0:20');
const SECRET = new Uint8Array(32).fill(3);
const T = 1_780_000_200;
const issuer = new DrkeyIssuer({ localIA: A, masterSecret: SECRET, epochSeconds: 3600 });

describe('DRKey issuer (the fast side)', () => {
  it('hands out K_{A,B} from the secret value of the epoch around the time', () => {
    const k = issuer.level1(B, T);
    const epoch = gridEpoch(T, 3600);
    assert.deepEqual(k.epoch, epoch);
    assert.deepEqual(k.key, deriveLevel1(deriveSecretValue(0, epoch, SECRET).key, B));
    assert.equal(k.srcIA, A);
    assert.equal(k.dstIA, B);
  });

  it('gives a different key per peer and per epoch, the same key when asked again', () => {
    const k = issuer.level1(B, T).key;
    assert.notDeepEqual(k, issuer.level1(C, T).key);
    assert.notDeepEqual(k, issuer.level1(B, T, 1).key);
    assert.deepEqual(k, issuer.level1(B, T + 1).key);
  });

  it('refuses a short master secret and epoch lengths outside 6 minutes..3 days', () => {
    assert.throws(() => new DrkeyIssuer({ localIA: A, masterSecret: new Uint8Array(8) }), { code: 'BAD_SECRET' });
    assert.throws(() => new DrkeyIssuer({ localIA: A, masterSecret: SECRET, epochSeconds: 359 }), { code: 'BAD_EPOCH' });
    assert.throws(() => new DrkeyIssuer({ localIA: A, masterSecret: SECRET, epochSeconds: 3 * 86400 + 1 }), { code: 'BAD_EPOCH' });
    assert.throws(() => checkIssuedEpoch({ begin: 10, end: 5 }), { code: 'BAD_EPOCH' });
  });

  it('refuses an empty secret for the secret value (every such AS would share keys)', () => {
    assert.throws(() => deriveSecretValue(0, { begin: 0, end: 1 }, new Uint8Array(0)), { code: 'BAD_SECRET' });
  });
});

describe('Level 1 store (the fetching side)', () => {
  it('holds previous, current and next epoch and drops the oldest beyond three', () => {
    const s = new Level1Store(B);
    for (const off of [-1, 0, 1, 2]) s.put(issuer.level1(B, T, off));
    const held = s.keysOf(A);
    assert.equal(held.length, KEYS_PER_PEER);
    assert.deepEqual(held.map((k) => k.epoch), [0, 1, 2].map((o) => issuer.epochAt(T, o)));
  });

  it('accepts the same key twice but refuses a changed key or an overlapping epoch', () => {
    const s = new Level1Store(B);
    const k = issuer.level1(B, T);
    s.put(k);
    s.put(k);
    assert.equal(s.keysOf(A).length, 1);
    assert.throws(() => s.put({ ...k, key: new Uint8Array(16) }), { code: 'BAD_EPOCH' });
    assert.throws(() => s.put({ ...k, epoch: { begin: k.epoch.begin + 60, end: k.epoch.end + 60 } }), { code: 'BAD_EPOCH' });
  });

  it('refuses a key issued for another AS', () => {
    assert.throws(() => new Level1Store(C).put(issuer.level1(B, T)), { code: 'BAD_IA' });
  });

  it('keeps a key through grace and half a window after its epoch, then prunes it', () => {
    const s = new Level1Store(B);
    const k = issuer.level1(B, T);
    s.put(k);
    assert.equal(s.prune(k.epoch.end + RETAIN_AFTER_END_SECONDS - 1), 0);
    assert.equal(s.keysOf(A).length, 1);
    assert.equal(s.prune(k.epoch.end + RETAIN_AFTER_END_SECONDS), 1);
    assert.deepEqual(s.issuers(), []);
  });

  it('asks for a fetch without a current key, and in the prefetch period without the next one', () => {
    const s = new Level1Store(B);
    assert.equal(s.needsFetch(A, T), true);
    const k = issuer.level1(B, T);
    s.put(k);
    const early = k.epoch.begin + 1;
    const late = k.epoch.end - PREFETCH_PERIOD_SECONDS + 1;
    assert.equal(inPrefetchPeriod(k.epoch, late), true);
    assert.equal(s.needsFetch(A, early), false);
    assert.equal(s.needsFetch(A, late), true);
    s.put(issuer.level1(B, T, 1));
    assert.equal(s.needsFetch(A, late), false);
  });

  it('refuses a new peer beyond maxPeers with TOO_MANY_PEERS and keeps the others', () => {
    const s = new Level1Store(B, 1);
    s.put(issuer.level1(B, T));
    const other = new DrkeyIssuer({ localIA: C, masterSecret: SECRET, epochSeconds: 3600 });
    assert.throws(() => s.put(other.level1(B, T)), { code: 'TOO_MANY_PEERS' });
    assert.deepEqual(s.issuers(), [A]);
  });
});
