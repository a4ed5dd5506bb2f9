// Flow UUIDs as UUIDv7 (RFC 9562 section 5.7): the Unix time in milliseconds (48 bits), the
// version 7, a 12-bit counter in rand_a (the dedicated counter of section 6.2, method 1), the
// variant, and in rand_b 62 bits drawn at random once per generator (once per collector
// process). Within a process the uuids rise strictly, in the same millisecond and across a
// wall clock that steps back; between processes rand_b tells them apart. Uuids of one
// collector then differ only in their time and counter, which the store keeps in a few bytes
// a flow where a random (v4) uuid costs 16 (relay/store/flow_columns.ts). A flow uuid names a
// flow; it is no secret, so a guessable counter is no weakness.
import { randomBytes } from 'node:crypto';

/** Counter values per millisecond; past the last one the generator borrows the next millisecond. */
const COUNTER_SPAN = 0x1000;

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');

export class FlowUuids {
  private ms = -1;
  private counter = 0;
  /** rand_b as text, variant bits included: "yxxx-xxxxxxxxxxxx". */
  private readonly tail: string;

  /**
   * @param clock Unix time in ms (Date.now); a clock that goes back does not make a uuid go back.
   * @param random 8 random bytes for rand_b (drawn here when not given).
   */
  constructor(
    private readonly clock: () => number = Date.now,
    random: Uint8Array = randomBytes(8),
  ) {
    if (random.length !== 8) throw new RangeError(`rand_b takes 8 random bytes, not ${random.length}`);
    const b = Buffer.from(random);
    b[0] = (b[0] & 0x3f) | 0x80;
    this.tail = `${b.toString('hex', 0, 2)}-${b.toString('hex', 2, 8)}`;
  }

  /** The next uuid, as text (8-4-4-4-12 lowercase hex). */
  next(): string {
    const now = Math.floor(this.clock());
    if (now > this.ms) {
      this.ms = now;
      this.counter = 0;
    } else if (++this.counter === COUNTER_SPAN) {
      this.ms++;
      this.counter = 0;
    }
    const ms = hex(this.ms, 12);
    return `${ms.slice(0, 8)}-${ms.slice(8)}-7${hex(this.counter, 3)}-${this.tail}`;
  }
}

/** This process's generator: the collector's flows take their uuids from it. */
const processUuids = new FlowUuids();

export const nextFlowUuid = (): string => processUuids.next();
