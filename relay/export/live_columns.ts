// A judged column batch as live viewers see it: each kept flow rebuilt on demand with the
// relay's node name, rebuilt path (SCION or SRv6), path type and verdict, never the collector's.
import { flowAt, uuidText } from '../../columns/rebuild';
import type { LiveBatch } from '../../observer/live';
import { storedCount, type JudgedBatch } from '../store/judged';

const NS_PER_MS = 1e6;

export function liveBatch(j: JudgedBatch): LiveBatch {
  const cols = j.columns;
  const keep = j.keep;
  const count = storedCount(j);
  const at = keep ? (k: number) => keep[k] : (k: number) => k;
  const time = cols.i64('timeNs');
  const path = cols.u32('path');
  const srv6Path = cols.u32('srv6Path');
  let uuids: Map<string, number> | undefined;
  const uuidColumn = cols.bytes('uuid');
  return {
    count,
    timeMs: (k) => Number(time[at(k)]) / NS_PER_MS,
    flow: (k) => {
      const i = at(k);
      return flowAt(cols, i, { nodeName: j.nodeName, scionPath: j.paths[path[i]]?.path, srv6Path: j.srv6Paths?.[srv6Path[i]], geofence: j.geofences[j.judgementOf[i]] });
    },
    indexOfUuid: (uuid) => {
      if (!uuids) {
        uuids = new Map();
        for (let k = 0; k < count; k++) uuids.set(uuidText(uuidColumn, 16 * at(k)), k);
      }
      return uuids.get(uuid) ?? -1;
    },
  };
}
