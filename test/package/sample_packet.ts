// A SCION packet on a real Zurich → Frankfurt path of examples/topology.yaml, with the master
// keys that verify its hop-field MACs: what the installed CLI and the image decode.
import { join } from 'node:path';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { parseIA } from '../../scion/isdas';
import { encodePacket } from '../../scion/packet';

export interface SamplePacket {
  hex: string;
  /** Base64 master keys of the path's ASes, in hop-field order (`scion decode --keys`). */
  keys: string[];
}

export function samplePacket(): SamplePacket {
  const topology = join(__dirname, '..', '..', 'examples', 'topology.yaml');
  const service = EmbeddedPathService.fromFile(topology, { now: () => 1_760_000_000, seed: 7 });
  const [cp] = service.pathsSync(parseIA('64-2:0:20'), parseIA('65-2:0:20'));
  const bytes = encodePacket({
    common: { version: 0, trafficClass: 0, flowId: 7, nextHdr: 0, hdrLen: 0, payloadLen: 0, pathType: 'SCION' },
    dstIA: parseIA('65-2:0:20'),
    srcIA: parseIA('64-2:0:20'),
    dst: { kind: 'IPv4', bytes: new Uint8Array([10, 165, 0, 7]) },
    src: { kind: 'IPv4', bytes: new Uint8Array([10, 164, 0, 5]) },
    path: cp.path,
    extensions: [],
    l4: { kind: 'UDP', srcPort: 40000, dstPort: 5432, length: 0, checksum: null, payload: new Uint8Array([1, 2, 3]) },
  });
  return {
    hex: Buffer.from(bytes).toString('hex'),
    keys: cp.hopFieldAses.map((ia) => Buffer.from(service.topology.ases.get(ia)!.masterKey).toString('base64')),
  };
}
