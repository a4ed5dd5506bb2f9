// What `cillion paths` shows about each path: hops with interfaces and countries, the
// metadata, each geofence's verdict, and whether it is installed for a workload.
import { defaultCountryLookup } from '../../geo/country';
import { hopsFromControlPlane } from '../../geofence/hops';
import { evaluate, type Compliance } from '../../geofence/verdict';
import type { ControlPlanePath } from '../../controlplane/combinator';
import type { Geofence } from '../../resources/geofence';
import { formatIA } from '../../scion/isdas';

export interface PathHopReport {
  isdAS: string;
  ingress: number;
  egress: number;
  country: string | null;
}

export interface FenceReport {
  name: string;
  mode: 'enforce' | 'audit';
  verdict: Compliance;
  reason: string;
}

export interface PathReport {
  index: number;
  fingerprint: string;
  hops: PathHopReport[];
  mtu: number;
  latencyMs: number | null;
  minBandwidthKbps: number;
  expires: string;
  fences: FenceReport[];
  /** Workloads (namespace/name) this path is installed for. */
  installedFor: string[];
}

export function reportPath(index: number, p: ControlPlanePath, fences: readonly Geofence[], installedFor: string[]): PathReport {
  const hops = hopsFromControlPlane(p);
  return {
    index,
    fingerprint: p.fingerprint,
    hops: hops.map((h) => ({
      isdAS: h.isdAs === undefined ? '?' : formatIA(h.isdAs),
      ingress: h.ingress,
      egress: h.egress,
      country: h.country ?? (h.latitude !== undefined && h.longitude !== undefined ? (defaultCountryLookup.countryAt(h.latitude, h.longitude) ?? null) : null),
    })),
    mtu: p.mtu,
    latencyMs: p.latencyComplete ? Math.round(p.totalLatencyMs * 100) / 100 : null,
    minBandwidthKbps: p.minBandwidthKbps,
    expires: new Date(Math.floor(p.expiry) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    fences: [...fences]
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((f) => {
        const e = evaluate(f.spec, hops);
        return { name: f.metadata.name, mode: f.spec.mode, verdict: e.verdict, reason: e.reason };
      }),
    installedFor,
  };
}

function bandwidth(kbps: number): string {
  if (kbps <= 0) return '?';
  if (kbps >= 1e6) return `${(kbps / 1e6).toFixed(kbps % 1e6 === 0 ? 0 : 1)} Gbit/s`;
  if (kbps >= 1e3) return `${(kbps / 1e3).toFixed(0)} Mbit/s`;
  return `${kbps} kbit/s`;
}

/** The hop list the way `scion showpaths` prints it: IA egress>ingress IA ... */
export function hopsText(hops: readonly PathHopReport[]): string {
  return hops.map((h, i) => (i === 0 ? h.isdAS : `${hops[i - 1].egress}>${h.ingress} ${h.isdAS}`)).join(' ');
}

export interface TextStyle {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

export function renderText(r: PathReport, c: TextStyle, now: number): string {
  const left = Math.max(0, Math.round((Date.parse(r.expires) - now) / 60000));
  const countries = r.hops.map((h) => h.country ?? '?').join(' ');
  const verdict = (f: FenceReport): string => {
    const text = `${f.name} ${f.verdict}${f.mode === 'audit' ? ' (audit)' : ''}`;
    return f.verdict === 'COMPLIANT' ? c.green(text) : f.verdict === 'VIOLATION' ? c.red(text) : c.yellow(text);
  };
  const lines = [
    `${c.bold(`[${r.index}]`)} ${r.installedFor.length > 0 ? c.bold('* ') : ''}Hops: [${hopsText(r.hops)}]`,
    `    MTU: ${r.mtu} Latency: ${r.latencyMs === null ? '?' : `${r.latencyMs}ms`} Bandwidth: ${bandwidth(r.minBandwidthKbps)} Expires: ${r.expires} (${Math.floor(left / 60)}h${left % 60}m)`,
    `    Countries: ${countries}${r.fences.length > 0 ? `  Fences: ${r.fences.map(verdict).join(', ')}` : ''}`,
  ];
  if (r.installedFor.length > 0) lines.push(c.dim(`    installed for ${r.installedFor.join(', ')}`));
  return lines.join('\n');
}
