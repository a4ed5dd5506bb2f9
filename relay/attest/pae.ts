// DSSE v1 pre-authentication encoding: what is actually signed. Lengths count bytes (not
// characters) in ASCII decimal, so the payload type cannot bleed into the body.
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}
