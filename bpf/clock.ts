// The datapath reads CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) but hop-field expiry is in
// Unix time; the loader keeps the difference in as_config. /proc/uptime is boot time to
// 10 ms, far finer than ExpTime's 337.5 s unit.
import { readFileSync } from 'node:fs';

export function realtimeOffsetNs(): bigint {
  const uptimeSeconds = readFileSync('/proc/uptime', 'utf8').split(' ')[0];
  const [whole, frac = '0'] = uptimeSeconds.split('.');
  const bootNs = BigInt(whole) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  return BigInt(Date.now()) * 1_000_000n - bootNs;
}
