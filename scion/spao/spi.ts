// The Security Parameter Index (authenticator-option.rst, "Security Parameter Index"):
// 0 is reserved, 1..2^21-1 name a DRKey, anything above is a locally agreed association.
// A DRKey SPI is 11 zero bits, 3 reserved bits, T (bit 17), D (bit 16), protocol (16 bits).
import { SpaoError } from './errors';

export const MAX_DRKEY_SPI = (1 << 21) - 1;

/** T: which DRKey the SPI names. */
export type DrkeySpiType = 'as-host' | 'host-host';
/** D: which side derives the key from its secret value (the other side fetched it). */
export type DrkeyDirection = 'sender' | 'receiver';

export interface DrkeySpi {
  protocol: number;
  type: DrkeySpiType;
  direction: DrkeyDirection;
}

const T_BIT = 1 << 17;
const D_BIT = 1 << 16;

export function makeDrkeySpi(s: DrkeySpi): number {
  if (!Number.isInteger(s?.protocol) || s.protocol < 1 || s.protocol > 0xffff) {
    throw new SpaoError('BAD_SPI', `DRKey SPI protocol must be in 1..65535 (0 is reserved), got ${String(s?.protocol)}`);
  }
  if (s.type !== 'as-host' && s.type !== 'host-host') throw new SpaoError('BAD_SPI', `unknown DRKey type ${String(s.type)}`);
  if (s.direction !== 'sender' && s.direction !== 'receiver') {
    throw new SpaoError('BAD_SPI', `unknown DRKey direction ${String(s.direction)}`);
  }
  return (s.type === 'host-host' ? T_BIT : 0) | (s.direction === 'receiver' ? D_BIT : 0) | s.protocol;
}

export function isDrkeySpi(spi: number): boolean {
  return spi > 0 && spi <= MAX_DRKEY_SPI;
}

/** The DRKey fields of `spi`, or undefined when it is 0 or a non-DRKey SPI. Reserved bits are ignored. */
export function parseDrkeySpi(spi: number): DrkeySpi | undefined {
  if (!isDrkeySpi(spi)) return undefined;
  return {
    protocol: spi & 0xffff,
    type: spi & T_BIT ? 'host-host' : 'as-host',
    direction: spi & D_BIT ? 'receiver' : 'sender',
  };
}
