import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { deriveHopFieldKey } from '../../../../scion/mac/keys';
import { ScionError } from '../../../../scion/errors';

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

describe('hop-field key derivation', () => {
  it('matches the published master-key/forwarding-key pair (scapy-scion test_mac_key_derivation)', () => {
    const key = deriveHopFieldKey(b64('IAOYbTs/CobLFV3T3jt6lQ=='));
    assert.equal(Buffer.from(key).toString('base64'), 'xEg7WN/vMCn+ccb3P7O/5A==');
  });

  it('is PBKDF2-HMAC-SHA256 with salt "Derive OF Key", 1000 iterations, 16 bytes', () => {
    const master = new Uint8Array(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
    const reference = pbkdf2Sync(Buffer.from(master), Buffer.from('Derive OF Key', 'ascii'), 1000, 16, 'sha256');
    const key = deriveHopFieldKey(master);
    assert.equal(key.length, 16);
    assert.deepEqual(Buffer.from(key), reference);
    assert.notDeepEqual(Buffer.from(key), pbkdf2Sync(Buffer.from(master), Buffer.from('Derive OF Key', 'ascii'), 999, 16, 'sha256'));
  });

  it('refuses an empty master key', () => {
    assert.throws(() => deriveHopFieldKey(new Uint8Array()), (e: unknown) => e instanceof ScionError && e.code === 'BAD_ARGUMENT');
  });
});
