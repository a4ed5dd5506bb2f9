// The light client of the read-back bench: of each GetFlowsResponse it reads only the flow's
// uuid, walking the protobuf fields (response field 1 the flow, flow field 34 the uuid), as a
// client that keeps up with the relay would skip what it does not need. Of a
// GetFlowBatchesResponse it reads each response (field 1) the same way.

/** The uuid of the flow a GetFlowsResponse holds, or undefined when it holds none. */
export function responseUuid(b: Buffer): string | undefined {
  const flow = field(b, 0, b.length, 1);
  if (!flow) return undefined;
  const uuid = field(b, flow[0], flow[1], 34);
  return uuid && b.toString('latin1', uuid[0], uuid[1]);
}

/** The uuids of the flows a GetFlowBatchesResponse holds, in order. */
export function batchUuids(b: Buffer): string[] {
  const out: string[] = [];
  let from = 0;
  for (let r = field(b, from, b.length, 1); r; r = field(b, from, b.length, 1)) {
    const uuid = responseUuid(b.subarray(r[0], r[1]));
    if (uuid !== undefined) out.push(uuid);
    from = r[1];
  }
  return out;
}

/** Where the length-delimited field `want` lies within [from, to). */
function field(b: Buffer, from: number, to: number, want: number): [number, number] | undefined {
  let p = from;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (p >= to) throw new Error('GetFlowsResponse ends inside a number');
      const x = b[p++];
      v += (x & 0x7f) * 2 ** shift;
      if (x < 0x80) return v;
    }
  };
  while (p < to) {
    const key = varint();
    const type = key % 8;
    if (type === 0) varint();
    else if (type === 1) p += 8;
    else if (type === 5) p += 4;
    else if (type === 2) {
      const n = varint();
      if (Math.floor(key / 8) === want) return [p, p + n];
      p += n;
    } else throw new Error(`GetFlowsResponse with wire type ${type}`);
  }
  return undefined;
}
