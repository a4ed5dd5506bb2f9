// What a stored batch adds to the relay's metrics, counted by column and verdict entry
// rather than by flow object.
import type { Geofence, Srv6HmacStatus, Verdict, WanPathType } from '../../proto/gen/flow/flow';
import { storedCount, type JudgedBatch } from '../store/judged';

export interface Tally {
  stored: number;
  verdicts: Map<Verdict, number>;
  geofences: Map<Geofence, number>;
  /** By the relay's path type (the pathType column once judged). */
  pathTypes: Map<WanPathType, number>;
  /** SRv6 flows by the HMAC status of their rebuilt path. */
  srv6Hmac: Map<Srv6HmacStatus, number>;
  /** Capture time of the newest stored flow, ns. */
  newestNs: bigint | undefined;
}

export function tallyStored(j: JudgedBatch): Tally {
  const cols = j.columns;
  const verdict = cols.u8('verdict');
  const time = cols.i64('timeNs');
  const n = storedCount(j);
  const byVerdict = new Uint32Array(256);
  const byJudgement = new Uint32Array(j.geofences.length);
  const pathType = cols.u8('pathType');
  const srv6Path = cols.u32('srv6Path');
  const byPathType = new Uint32Array(256);
  const bySrv6 = new Uint32Array(j.srv6Paths?.length ?? 0);
  let newest: bigint | undefined;
  for (let k = 0; k < n; k++) {
    const i = j.keep ? j.keep[k] : k;
    byVerdict[verdict[i]]++;
    byJudgement[j.judgementOf[i]]++;
    byPathType[pathType[i]]++;
    if (srv6Path[i] !== 0 && srv6Path[i] < bySrv6.length) bySrv6[srv6Path[i]]++;
    if (newest === undefined || time[i] > newest) newest = time[i];
  }
  const verdicts = new Map<Verdict, number>();
  byVerdict.forEach((c, v) => c > 0 && verdicts.set(v as Verdict, c));
  const geofences = new Map<Geofence, number>();
  byJudgement.forEach((c, g) => {
    const fence = j.geofences[g];
    if (c > 0 && fence) geofences.set(fence, c);
  });
  const pathTypes = new Map<WanPathType, number>();
  byPathType.forEach((c, t) => c > 0 && pathTypes.set(t as WanPathType, c));
  const srv6Hmac = new Map<Srv6HmacStatus, number>();
  bySrv6.forEach((c, q) => {
    const status = j.srv6Paths?.[q]?.hmac?.status;
    if (c > 0 && status !== undefined) srv6Hmac.set(status, (srv6Hmac.get(status) ?? 0) + c);
  });
  return { stored: n, verdicts, geofences, pathTypes, srv6Hmac, newestNs: newest };
}
