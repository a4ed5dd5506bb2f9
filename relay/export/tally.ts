// What a stored batch adds to the relay's metrics, counted by column and verdict entry
// rather than by flow object.
import type { Geofence, Verdict } from '../../proto/gen/flow/flow';
import { storedCount, type JudgedBatch } from '../store/judged';

export interface Tally {
  stored: number;
  verdicts: Map<Verdict, number>;
  geofences: Map<Geofence, number>;
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
  let newest: bigint | undefined;
  for (let k = 0; k < n; k++) {
    const i = j.keep ? j.keep[k] : k;
    byVerdict[verdict[i]]++;
    byJudgement[j.judgementOf[i]]++;
    if (newest === undefined || time[i] > newest) newest = time[i];
  }
  const verdicts = new Map<Verdict, number>();
  byVerdict.forEach((c, v) => c > 0 && verdicts.set(v as Verdict, c));
  const geofences = new Map<Geofence, number>();
  byJudgement.forEach((c, g) => {
    const fence = j.geofences[g];
    if (c > 0 && fence) geofences.set(fence, c);
  });
  return { stored: n, verdicts, geofences, newestNs: newest };
}
