import assert from 'node:assert/strict';
import { pae } from '../../../../relay/attest/pae';

describe('relay/attest/pae', () => {
  it('encodes the DSSE protocol.md example exactly', () => {
    assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString('latin1'), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts bytes, not characters, and keeps the body verbatim', () => {
    assert.deepEqual(pae('é', Buffer.from([0x61, 0x20, 0x0a, 0x00])), Buffer.concat([Buffer.from('DSSEv1 2 '), Buffer.from([0xc3, 0xa9]), Buffer.from(' 4 a \n\0')]));
    assert.equal(pae('', Buffer.alloc(0)).toString(), 'DSSEv1 0  0 ');
  });
});
