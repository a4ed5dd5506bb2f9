// The human-readable summary of an attestation, in Markdown. It restates the signed
// statement for people; only the envelope and the evidence are the proof.
import { isSrv6Path, type Counts, type AttestationPredicate, type PathUse } from './predicate';
import type { Statement } from './statement';

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_none_\n';
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n') + '\n';
}

const counts = (c: Counts): string[] => [String(c.flows), c.packets, c.bytes];

/** Rows of a long list shown before the rest is only counted; the evidence has them all. */
const MAX_LISTED = 50;

function flowList(title: string, refs: AttestationPredicate['violations']): string {
  const rows = refs.slice(0, MAX_LISTED).map((r) => [String(r.index), r.time, r.uuid, r.fence, r.reason]);
  const more = refs.length > MAX_LISTED ? `\n${refs.length - MAX_LISTED} more in the statement.\n` : '';
  return `## ${title} (${refs.length})\n\n${table(['line', 'time', 'flow', 'geofence', 'reason'], rows)}${more}`;
}

const named = (r: { name: string; cluster: string }): string => (r.cluster ? `${r.name} (cluster ${r.cluster})` : r.name);

/**
 * Which relay made the statement and whose stores it covers, one line each, for people;
 * none for an attestation from before relays were named.
 */
/** A path's hops as one table cell: SCION's ISD-AS and interfaces, SRv6's SIDs with node and country, tenant and HMAC. */
function pathHops(x: PathUse): string {
  if (isSrv6Path(x)) {
    const hops = x.hops.map((h) => `${h.sid}${h.node ? ` ${h.node}` : ''}${h.country ? ` (${h.country})` : ''}${h.behavior.startsWith('End.DT') ? ` ${h.behavior}` : ''}`).join(' → ');
    return `${hops}; tenant ${x.tenant || x.tenantId}; HMAC ${x.hmac.status}${x.knownToCatalogue ? '' : ' [unknown to the SID catalogue]'}`;
  }
  return x.hops.map((h) => `${h.isdAs}${h.country ? ` (${h.country})` : ''} ${h.ingressInterface}>${h.egressInterface}`).join(' → ') + (x.knownToControlPlane ? '' : ' [unknown to control plane]');
}

export function coverageLines(p: AttestationPredicate): string[] {
  const c = p.relays;
  if (!c) return [];
  const out = [`exported by relay ${named(p.relay)}${p.relay.signingKey ? `, which signs it with key ${p.relay.signingKey}` : ''}`];
  out.push(`covers the stores of relays ${c.covered.map((r) => `${named(r)} [${r.store.kind} ${r.store.location}]`).join(', ')}`);
  if (c.sharedStoreWith.length > 0) out.push(`shares that store with replicas ${c.sharedStoreWith.join(', ')}: their flows are in it`);
  if (c.duplicates > 0) out.push(`${c.duplicates} flows held by more than one relay counted once`);
  if (c.conflicts > 0) out.push(`${c.conflicts} copies of a flow differed between relays; kept (the exporting relay's own, else the first peer's)`);
  if (c.missing.length > 0) out.push(`INCOMPLETE RANGE: flows of relays ${c.missing.map((m) => m.name).join(', ')} may be missing (${c.missing.map((m) => m.reason).join('; ')})`);
  return out;
}

export function renderReport(st: Statement, signer?: { keyid: string }): string {
  const p = st.predicate;
  const t = p.totals;
  const verdict = t.violation > 0 ? 'VIOLATIONS FOUND' : t.unverified > 0 ? 'UNVERIFIED FLOWS PRESENT' : 'COMPLIANT';
  const out: string[] = [];
  out.push(`# Compliance attestation: ${esc(p.selector)}\n`);
  if (p.relays?.missing.length) out.push(`**Incomplete range:** the flows of relays ${p.relays.missing.map((m) => m.name).join(', ')} may be missing.\n`);
  out.push(`**Result: ${verdict}** (${t.compliant} compliant, ${t.violation} violation, ${t.unverified} unverified, ${t.unjudged} without a geofence)\n`);
  out.push(table(['', ''], [
    ['window', `${p.window.from} to ${p.window.to} (end excluded)`],
    ['selector', p.selector],
    ['flows', String(t.flows)],
    ['packets', t.packets],
    ['bytes', t.bytes],
    ['relay', `${p.relay.name} ${p.relay.version}`],
    ...(p.relays ? [
      ['relays covered', p.relays.covered.map((r) => `${named(r)}: ${r.store.kind} ${r.store.location}`).join('; ') + (p.relays.sharedStoreWith.length ? ` (store shared with ${p.relays.sharedStoreWith.join(', ')})` : '')],
      ['relays missing', p.relays.missing.length ? `INCOMPLETE: ${p.relays.missing.map((m) => `${m.name}: ${m.reason}`).join('; ')}` : 'none'],
    ] : []),
    ['store', `${p.store.kind} ${p.store.location} (database ${p.store.database})`],
    ['evidence', `${p.evidence.name}: ${p.evidence.flows} flows, SHA-256 ${p.evidence.sha256}`],
    ['subject digest', `${st.subject[0]?.digest.sha256 ?? ''} (RFC 6962 Merkle root over the evidence lines)`],
    ['signed by', signer ? `key ${signer.keyid}` : 'unsigned'],
    ['generated', p.generatedAt],
  ]));
  out.push('## Geofences\n');
  out.push(table(['name', 'mode', 'spec SHA-256'], p.geofences.map((g) => [g.name, g.mode ?? '?', g.specSha256 ?? 'spec not available to the exporter'])));
  out.push('## Paths used\n');
  out.push(table(['kind', 'fingerprint', 'hops', 'flows', 'packets', 'bytes'], p.paths.map((x) => [
    isSrv6Path(x) ? 'SRv6' : 'SCION',
    isSrv6Path(x) ? x.segmentsFingerprint.slice(0, 16) : x.fingerprint.slice(0, 16),
    pathHops(x),
    ...counts(x.counts),
  ])));
  out.push(`Flows without a WAN path: ${p.noPath.flows} (${p.noPath.packets} packets, ${p.noPath.bytes} bytes).\n`);
  out.push('## Per country\n');
  out.push(table(['country', 'flows', 'packets', 'bytes'], p.countries.map((c) => [c.country || '(undeclared)', ...counts(c.counts)])));
  out.push('## Per AS\n');
  out.push(table(['ISD-AS', 'flows', 'packets', 'bytes'], p.ases.map((a) => [a.isdAs, ...counts(a.counts)])));
  out.push(flowList('Violations', p.violations));
  out.push(flowList('Unverified flows', p.unverified));
  out.push('## What this shows\n');
  out.push(
    'SCION hop fields are MACed by each AS and checked by its routers, so a sender can only use paths the ASes authorised. ' +
      'The hop-field sequence each flow carried, matched against the segments the control plane handed out, tells which ASes ' +
      'and interfaces its packets were authorised to cross. Locations and countries come from SCION static path metadata: ' +
      'declared by each AS itself and signed in the control plane, not measured.\n',
  );
  if (p.paths.some(isSrv6Path)) {
    out.push(
      'SRv6 segments carry no per-hop MAC: an SRv6 path is the segment list seen in the packet at the edge and on the transit ' +
        'nodes the operator runs, with each segment\'s node, operator and country from the relay\'s SID catalogue (declared, ' +
        'not measured). Where the SRH carries an HMAC TLV (RFC 8754 section 2.1.2) the relay checked it with the catalogue\'s ' +
        'key: VERIFIED means the segment list and outer source are those the key holder computed it over, not that the ' +
        'packet was forwarded through them.\n',
    );
  }
  return out.join('\n');
}
