// The keys a Cillion mesh authenticates identities with, in DRKey terms. The sending
// cluster's AS A is the fast side: packets carry SPI (Cillion identity protocol, AS-host,
// sender side), keyed with K_{A,B:H_B} where H_B is the receiving edge node. So
//   - A's nodes derive the key for any receiving node from K_{A,B} alone, and
//   - a receiving node needs one key per peer AS and epoch, the one bound to itself; the MAC
//     binds the sending node's address (SrcHostAddr) on top.
import { deriveAsHost } from '../drkey/derive';
import type { Level1Key } from '../drkey/level1';
import { PROTOCOL_CILLION_IDENTITY, PROTOCOL_GENERIC } from '../drkey/protocol';
import type { HostAddr } from '../packet';
import { SpaoError } from './errors';
import type { EpochKey } from './key_select';
import { makeDrkeySpi } from './spi';

export const MESH_SPI = makeDrkeySpi({ protocol: PROTOCOL_CILLION_IDENTITY, type: 'as-host', direction: 'sender' });

/** K_{A,B:H_B} of the mesh protocol from the generic Level 1 key K_{A,B}, with its epoch. */
export function meshAsHostKey(level1: Level1Key, receiver: HostAddr): EpochKey {
  if (level1.protocol !== PROTOCOL_GENERIC) {
    throw new SpaoError('BAD_CONFIG', `mesh keys derive from the generic (protocol 0) Level 1 key, got protocol ${level1.protocol}`);
  }
  return { epoch: { ...level1.epoch }, key: deriveAsHost({ generic: PROTOCOL_CILLION_IDENTITY }, level1.key, receiver) };
}
