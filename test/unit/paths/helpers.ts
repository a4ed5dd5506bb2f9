// Shared by the paths tests: raw paths as routers along the way would forward them.

/** The bytes a router further along would forward: CurrHF advanced, SegIDs updated, an alert flag set. */
export function inTransit(raw: Uint8Array): Buffer {
  const b = Buffer.from(raw);
  b[0] = (b[0] & 0xc0) | 1;
  b.writeUInt16BE(b.readUInt16BE(4 + 2) ^ 0x1234, 4 + 2);
  const segLens = b.readUInt32BE(0);
  const nInf = [(segLens >>> 12) & 0x3f, (segLens >>> 6) & 0x3f, segLens & 0x3f].filter((n) => n > 0).length;
  b[4 + 8 * nInf] |= 0x01;
  return b;
}
