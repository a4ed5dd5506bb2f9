import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { addSignatures, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, signEnvelope, verifyEnvelope, type Envelope } from '../../../../relay/attest/dsse';
import { KeyError, keyId, privateKeyFromPem, publicKeyFromPem, signBytes, verifyBytes } from '../../../../relay/attest/keys';
import { pae } from '../../../../relay/attest/pae';

const pem = (label: string, der: Buffer): string => `-----BEGIN ${label}-----\n${der.toString('base64')}\n-----END ${label}-----\n`;

// RFC 8032 section 7.1, TEST 1 (empty message), wrapped in PKCS#8 / SPKI per RFC 8410.
const RFC8032_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';
const SPKI_ED25519_PREFIX = '302a300506032b6570032100';

function pair(kind: 'ed25519' | 'p256'): { priv: KeyObject; pub: KeyObject } {
  const kp = kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { priv: kp.privateKey, pub: kp.publicKey };
}

function flipBase64Byte(b64: string, at: number): string {
  const b = Buffer.from(b64, 'base64');
  b[at] ^= 0x01;
  return b.toString('base64');
}

describe('relay/attest keys and DSSE envelopes', () => {
  it('signs the RFC 8032 test vector and derives the keyid from the SPKI DER', () => {
    const priv = privateKeyFromPem(pem('PRIVATE KEY', Buffer.from(PKCS8_ED25519_PREFIX + RFC8032_SECRET, 'hex')));
    assert.equal(signBytes(priv, Buffer.alloc(0)).toString('hex'), RFC8032_SIG);
    const spki = Buffer.from(SPKI_ED25519_PREFIX + RFC8032_PUBLIC, 'hex');
    const pub = publicKeyFromPem(pem('PUBLIC KEY', spki));
    assert.equal(keyId(pub), createHash('sha256').update(spki).digest('hex'));
    assert.equal(keyId(priv), keyId(pub));
    assert.ok(verifyBytes(pub, Buffer.alloc(0), Buffer.from(RFC8032_SIG, 'hex')));
  });

  it('accepts only Ed25519 and P-256 keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => privateKeyFromPem(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })), KeyError);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => publicKeyFromPem(p384.publicKey.export({ type: 'spki', format: 'pem' })), /P-256|secp384r1/);
    assert.throws(() => privateKeyFromPem('not a key'), KeyError);
  });

  for (const kind of ['ed25519', 'p256'] as const) {
    describe(kind, () => {
      const { priv, pub } = pair(kind);
      const other = pair(kind);
      const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
      const env = (): Envelope => JSON.parse(JSON.stringify(signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, [priv]))) as Envelope;

      it('round-trips through JSON and verifies with the public key', () => {
        const e = parseEnvelope(JSON.stringify(env()));
        assert.equal(e.payloadType, IN_TOTO_PAYLOAD_TYPE);
        assert.deepEqual(Buffer.from(e.payload, 'base64'), payload);
        assert.equal(e.signatures[0].keyid, keyId(pub));
        assert.deepEqual(verifyEnvelope(e, [pub]), [keyId(pub)]);
      });

      it('signs PAE(payloadType, payload), not the payload alone', () => {
        const sig = Buffer.from(env().signatures[0].sig, 'base64');
        assert.ok(verifyBytes(pub, pae(IN_TOTO_PAYLOAD_TYPE, payload), sig));
        assert.ok(!verifyBytes(pub, payload, sig));
        if (kind === 'p256') assert.equal(sig[0], 0x30, 'ECDSA signatures are DER SEQUENCEs');
      });

      it('fails on a changed payload byte, signature, payload type or key', () => {
        const e1 = env();
        e1.payload = flipBase64Byte(e1.payload, 3);
        assert.deepEqual(verifyEnvelope(e1, [pub]), []);
        const e2 = env();
        e2.signatures[0].sig = flipBase64Byte(e2.signatures[0].sig, 10);
        assert.deepEqual(verifyEnvelope(e2, [pub]), []);
        const e3 = env();
        e3.payloadType = 'application/json';
        assert.deepEqual(verifyEnvelope(e3, [pub]), []);
        assert.deepEqual(verifyEnvelope(env(), [other.pub]), []);
        // A misleading keyid hint changes nothing: the signature decides.
        const e4 = env();
        e4.signatures[0].keyid = keyId(other.pub);
        assert.deepEqual(verifyEnvelope(e4, [pub]), [keyId(pub)]);
      });
    });
  }

  it('credits each of several signers once, however often a key or signature repeats', () => {
    const [a, b, c] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ed25519')];
    const payload = Buffer.from('{}');
    const env = signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, [a.privateKey, b.privateKey]);
    assert.deepEqual(verifyEnvelope(env, [a.publicKey, b.publicKey, c.publicKey]).sort(), [keyId(a.publicKey), keyId(b.publicKey)].sort());
    assert.deepEqual(verifyEnvelope({ ...env, signatures: [env.signatures[0], env.signatures[0]] }, [a.publicKey, a.publicKey, b.publicKey]), [keyId(a.publicKey)]);
    const more = addSignatures(env, [c.privateKey]);
    assert.equal(more.signatures.length, 3);
    assert.equal(more.payload, env.payload);
    assert.equal(verifyEnvelope(more, [a.publicKey, b.publicKey, c.publicKey]).length, 3);
  });

  it('names what is wrong with a malformed envelope', () => {
    assert.throws(() => parseEnvelope('{'), /not JSON/);
    assert.throws(() => parseEnvelope('{"payloadType":"x","signatures":[{"sig":"AA=="}]}'), /payload is missing/);
    assert.throws(() => parseEnvelope('{"payload":"AA==","payloadType":"x","signatures":[]}'), /signatures/);
    assert.throws(() => parseEnvelope('{"payload":"**","payloadType":"x","signatures":[{"sig":"AA=="}]}'), /base64/);
  });
});
