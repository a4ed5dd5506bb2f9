// The TypeScript side of bpf/include/cillion_abi.h: struct layouts, record and counter
// numbering, all taken from bpf/abi_layout.gen.ts, which make generates from the header
// (docs/record-layout.md). Nothing here restates a number the header defines.
import { DEFINES, ENUMS, STRUCTS } from './abi_layout.gen';

export const RECORD_VERSION = DEFINES.CIL_RECORD_VERSION;
export const REC_PACKET = ENUMS.cil_record_type.CIL_REC_PACKET;
export const REC_PATH_MAX = DEFINES.CIL_REC_PATH_MAX;
export const REC_F_PATH_TRUNCATED = DEFINES.CIL_REC_F_PATH_TRUNCATED;
export const REC_F_HAS_INNER = DEFINES.CIL_REC_F_HAS_INNER;
export const REC_F_AUTHENTICATED = DEFINES.CIL_REC_F_AUTHENTICATED;
export const HDR_MAX = DEFINES.CIL_HDR_MAX;
export const MAX_PATH_SET = DEFINES.CIL_MAX_PATH_SET;
export const AES_ROUND_KEYS = DEFINES.CIL_AES_ROUND_KEYS;
export const SRV6_HDR_MAX = DEFINES.CIL_SRV6_HDR_MAX;
export const SRV6_MAX_SEGMENTS = DEFINES.CIL_SRV6_MAX_SEGMENTS;
export const SRV6_HMAC_TLV_LEN = DEFINES.CIL_SRV6_HMAC_TLV_LEN;
export { PROTO_CILLION_SHIM, SHIM_LEN } from '../scion/shim';

/** Each struct's size and each member's byte offset and size, by C name. */
export const LAYOUTS = STRUCTS;
export type StructName = keyof typeof STRUCTS;

/** An enum's values by their C names without `prefix`, as a number -> name map. */
function byValue<P extends string, E extends Record<string, number>>(values: E, prefix: P): Record<number, Unprefixed<keyof E, P>> {
  return Object.fromEntries(
    Object.entries(values).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [v, k.slice(prefix.length)]),
  ) as Record<number, Unprefixed<keyof E, P>>;
}
type Unprefixed<K, P extends string> = K extends `${P}${infer R}` ? R : never;

export type Direction = Unprefixed<keyof typeof ENUMS.cil_direction, 'CIL_DIR_'>;
export const DIRECTIONS: Readonly<Record<number, Direction>> = byValue(ENUMS.cil_direction, 'CIL_DIR_');

export type Verdict = Unprefixed<keyof typeof ENUMS.cil_verdict, 'CIL_VERDICT_'>;
export const VERDICTS: Readonly<Record<number, Verdict>> = byValue(ENUMS.cil_verdict, 'CIL_VERDICT_');
export const VERDICT_FORWARDED = ENUMS.cil_verdict.CIL_VERDICT_FORWARDED;
export const VERDICT_DROPPED = ENUMS.cil_verdict.CIL_VERDICT_DROPPED;

export type PathKind = 'scion' | 'srv6';
export const PATH_KINDS: Readonly<Record<number, PathKind>> = {
  [ENUMS.cil_path_kind.CIL_PATH_SCION]: 'scion',
  [ENUMS.cil_path_kind.CIL_PATH_SRV6]: 'srv6',
};

/** SRv6 endpoint behaviors (enum cil_srv6_behavior) by their RFC 8986 names. */
export type Srv6Behavior = 'End' | 'End.X' | 'End.DT4' | 'End.DT6';
export const SRV6_BEHAVIORS: Readonly<Record<Srv6Behavior, number>> = {
  End: ENUMS.cil_srv6_behavior.CIL_SRV6_END,
  'End.X': ENUMS.cil_srv6_behavior.CIL_SRV6_END_X,
  'End.DT4': ENUMS.cil_srv6_behavior.CIL_SRV6_END_DT4,
  'End.DT6': ENUMS.cil_srv6_behavior.CIL_SRV6_END_DT6,
};

type CounterEnumName = keyof typeof ENUMS.cil_counter;
/** enum cil_counter's drop reasons (CIL_DROP_*, also record drop_reason values) and events (CIL_CNT_*), by bare name. */
export type CounterName = Exclude<Unprefixed<CounterEnumName, 'CIL_DROP_'> | Unprefixed<CounterEnumName, 'CIL_CNT_'>, 'NONE' | 'MAX' | 'REASON_MAX'>;
export const COUNTERS = Object.fromEntries(
  Object.entries(ENUMS.cil_counter)
    .map(([k, v]) => [k.replace(/^CIL_(DROP|CNT)_/, ''), v] as const)
    .filter(([k]) => !['NONE', 'MAX', 'REASON_MAX'].includes(k)),
) as Readonly<Record<CounterName, number>>;
export const DROP_REASON_MAX = ENUMS.cil_counter.CIL_DROP_REASON_MAX;
export const COUNTER_SLOTS = ENUMS.cil_counter.CIL_CNT_MAX;

const COUNTER_NAMES = new Map<number, CounterName>(
  Object.entries(COUNTERS).map(([name, idx]) => [idx, name as CounterName]),
);

/** The name of a counter slot or drop reason, or `UNKNOWN_<n>` for a number this build does not know. */
export function counterName(idx: number): string {
  return COUNTER_NAMES.get(idx) ?? `UNKNOWN_${idx}`;
}
