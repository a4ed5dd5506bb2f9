// The example WAN as the relay tests see it: the embedded control plane over
// examples/topology.yaml on the real clock (so its beaconing round is the current one,
// as a relay started with --topology builds it), and flows' paths as an honest collector
// sends them: the control plane's description plus the raw bytes the packets carried.
import { join } from 'node:path';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { describePath } from '../../../paths/describe';
import type { ScionPath } from '../../../proto/gen/flow/flow';
import { parseIA } from '../../../scion/isdas';
import { encodeScionPathBytes } from '../../../scion/path/raw';

export const EXAMPLE_TOPOLOGY = join(__dirname, '../../../examples/topology.yaml');
export const ZURICH = parseIA('64-2:0:20');
export const FRANKFURT = parseIA('65-2:0:20');

/** A Geofence keeping the analytics workload inside the EU and Switzerland, in audit mode. */
export const EU_CH_FENCE = `apiVersion: cillion.io/v1alpha1
kind: Geofence
metadata:
  name: eu-ch
spec:
  workloadSelector:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: analytics
    podSelector:
      matchLabels:
        app: analytics
  allow:
    countries: [EU, CH]
  mode: audit
`;

export function exampleControlPlane(now?: () => number): EmbeddedPathService {
  return EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, now ? { now } : {});
}

/** The path as an honest collector describes it, with its raw bytes. */
export function honestPath(cp: ControlPlanePath): ScionPath {
  return { ...describePath(cp, 0), raw: Buffer.from(encodeScionPathBytes(cp.path)) };
}

export const EUROPE_OR_CH = new Set(['CH', 'DE', 'FR', 'NL', 'AT', 'IT', 'BE']);

/** A path whose every hop is in Europe, and one that crosses the US, from src to dst. */
export function europeAndUs(svc: EmbeddedPathService, src = ZURICH, dst = FRANKFURT): { europe: ControlPlanePath; viaUs: ControlPlanePath } {
  const all = svc.pathsSync(src, dst);
  const countries = (cp: ControlPlanePath) => describePath(cp, 0).hops.map((h) => h.country);
  const europe = all.find((cp) => countries(cp).every((c) => EUROPE_OR_CH.has(c)));
  const viaUs = all.find((cp) => countries(cp).includes('US'));
  if (!europe || !viaUs) throw new Error('the example topology lacks a European or a US path');
  return { europe, viaUs };
}
