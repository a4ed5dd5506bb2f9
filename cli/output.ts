// Terminal output conventions shared by every command: colour only on a TTY (and never
// with NO_COLOR), machine output as one JSON object per line.
import pc from 'picocolors';

export type Colors = Pick<typeof pc, 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan'>;

export function colorsFor(stream: NodeJS.WriteStream): Colors {
  const enabled = stream.isTTY === true && !('NO_COLOR' in process.env);
  return pc.createColors(enabled);
}

/** JSON.stringify that prints bigints as numbers when safe and as strings otherwise. */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  });
}
