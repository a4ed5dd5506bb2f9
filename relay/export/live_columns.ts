// A judged column batch as live viewers see it: each kept flow rebuilt on demand with the
// relay's node name, rebuilt path and verdict, never the collector's.
import { flowAt } from '../../columns/rebuild';
import type { LiveBatch } from '../../observer/live';
import type { JudgedBatch } from '../store/judged';

const NS_PER_MS = 1e6;

export function liveBatch(j: JudgedBatch): LiveBatch {
  const cols = j.columns;
  const keep = j.keep;
  const count = keep ? keep.length : cols.count;
  const at = keep ? (k: number) => keep[k] : (k: number) => k;
  const time = cols.i64('timeNs');
  const path = cols.u32('path');
  let uuids: Map<string, number> | undefined;
  const uuidColumn = cols.bytes('uuid');
  const uuids16 = Buffer.from(uuidColumn.buffer, uuidColumn.byteOffset, uuidColumn.byteLength);
  const uuidText = (i: number): string => {
    const h = uuids16.toString('hex', 16 * i, 16 * i + 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  return {
    count,
    timeMs: (k) => Number(time[at(k)]) / NS_PER_MS,
    flow: (k) => {
      const i = at(k);
      return flowAt(cols, i, { nodeName: j.nodeName, scionPath: j.paths[path[i]]?.path, geofence: j.geofences[j.judgementOf[i]] });
    },
    indexOfUuid: (uuid) => {
      if (!uuids) {
        uuids = new Map();
        for (let k = 0; k < count; k++) uuids.set(uuidText(at(k)), k);
      }
      return uuids.get(uuid) ?? -1;
    },
  };
}
