// The keys a Cillion mesh authenticates identities with, in DRKey terms. The sending
// cluster's AS A is the fast side: packets from A to B are keyed with
//   K_{A->B} = K_{A,B}^{Cillion}, the generic-hierarchy AS-AS key of protocol 0xc111,
// so A's nodes derive it from A's own secret value and B's nodes from the Level 1 key
// K_{A,B} they fetched from A. One key per (peer AS, direction, epoch) serves every node
// of both clusters; the MAC input binds both ISD-ASes and both host addresses instead.
//
// The SPI is therefore not a DRKey SPI (those name AS-host and host-host keys only) but a
// locally agreed one above 2^21-1 (authenticator-option.rst): CILLION_SPI in cillion.ts.
import { deriveGenericAsAs } from '../drkey/derive';
import type { Level1Key } from '../drkey/level1';
import { PROTOCOL_CILLION_IDENTITY, PROTOCOL_GENERIC } from '../drkey/protocol';
import { SpaoError } from './errors';
import type { EpochKey } from './key_select';

/** K_{A->B} from the generic Level 1 key K_{A,B}, with its epoch (the issuer A's). */
export function meshKey(level1: Level1Key): EpochKey {
  if (level1.protocol !== PROTOCOL_GENERIC) {
    throw new SpaoError('BAD_CONFIG', `mesh keys derive from the generic (protocol 0) Level 1 key, got protocol ${level1.protocol}`);
  }
  return { epoch: { ...level1.epoch }, key: deriveGenericAsAs(PROTOCOL_CILLION_IDENTITY, level1.key) };
}
