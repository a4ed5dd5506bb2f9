// One flow in full: its hops (the offending one marked) or, for an SRv6 flow, its segments
// with each node, operator and country, the tenant and the HMAC outcome; the identity carried in the SCION
// packet and how it checked against the source endpoint, and the flow as proto3 JSON. The
// stream's flow carries only what the views draw; the whole one is fetched by uuid, and the
// streamed one shown until it comes (or when the relay no longer holds it).
import { useEffect, useState } from 'preact/hooks';
import { Flow, geofenceVerdictToJSON, identityCheckToJSON, WanPathType } from '../../proto/gen/flow/flow';
import { fetchFlow } from '../api/flow_by_uuid';
import { endpointText, flowTime, hmacText, verdictText } from './path_text';

interface Props {
  flow: Flow;
  localCluster: string;
  onClose(): void;
}

type Whole = { uuid: string; flow?: Flow; note: string };

export function FlowDetail({ flow: streamed, localCluster, onClose }: Props) {
  const [whole, setWhole] = useState<Whole>({ uuid: '', note: '' });
  useEffect(() => {
    const abort = new AbortController();
    setWhole({ uuid: streamed.uuid, note: 'fetching the whole flow…' });
    fetchFlow(streamed.uuid, abort.signal).then(
      (f) => setWhole({ uuid: streamed.uuid, flow: f, note: f ? '' : 'the relay no longer holds this flow whole: shown as streamed' }),
      (e: Error) => abort.signal.aborted || setWhole({ uuid: streamed.uuid, note: `the whole flow could not be fetched (${e.message}): shown as streamed` }),
    );
    return () => abort.abort();
  }, [streamed.uuid]);
  const current = whole.uuid === streamed.uuid;
  const flow = (current && whole.flow) || streamed;
  const hops = flow.scionPath?.hops ?? [];
  const srv6 = flow.pathType === WanPathType.WAN_PATH_SRV6 ? flow.srv6Path : undefined;
  const g = flow.geofence;
  const id = flow.identityExtension;
  return (
    <aside data-testid="flow-detail" data-whole={String(current && whole.flow !== undefined)} class="side-panel">
      <div class="panel-head">
        <strong>{endpointText(flow, 'source', localCluster)} → {endpointText(flow, 'destination', localCluster)}</strong>
        <button class="close" onClick={onClose} aria-label="close">×</button>
      </div>
      <p class="muted">
        {flowTime(flow)} · {flow.nodeName} · {verdictText(flow)} · {flow.uuid}
      </p>
      {current && whole.note && <p class="muted">{whole.note}</p>}
      {g && g.name && (
        <p>
          geofence <strong>{g.name}</strong>: {geofenceVerdictToJSON(g.verdict).replace(/^GEOFENCE_/, '').toLowerCase()}
          {g.reason ? ` (${g.reason})` : ''}
        </p>
      )}
      {srv6 ? (
        <>
          <h4>SRv6 segments</h4>
          <p data-testid="detail-srv6" class="srv6-facts">
            tenant <strong data-testid="detail-tenant">{srv6.tenant || `VRF ${srv6.tenantId}`}</strong> (VRF {srv6.tenantId}) · HMAC{' '}
            <strong data-testid="detail-hmac" class={`hmac-${hmacText(flow)}`}>{hmacText(flow)}</strong>
            {srv6.hmac && srv6.hmac.keyId > 0 ? ` (key ${srv6.hmac.keyId})` : ''}
            {srv6.source ? ` · encapsulated by ${srv6.source}` : ''}
          </p>
          <ol data-testid="detail-segments" class="hops">
            {srv6.hops.length === 0 && <li class="muted">no segments</li>}
            {srv6.hops.map((h, i) => (
              <li key={i} data-testid="detail-segment" data-sid={h.sid} class={g?.offendingHop === i ? 'offending' : ''}>
                <span class="mono">{h.sid}</span> {h.behavior || 'unknown SID'} · {h.node || '?'}
                {h.operator ? ` · ${h.operator}${h.asn ? ` (AS${h.asn})` : ''}` : ''} · {h.country || '??'} {h.geo?.address ? `· ${h.geo.address}` : ''}
                {g?.offendingHop === i && <strong class="offending-mark"> outside {g.name}</strong>}
              </li>
            ))}
          </ol>
        </>
      ) : (
        <>
          <h4>Hops</h4>
          <ol data-testid="detail-hops" class="hops">
            {hops.length === 0 && <li class="muted">no SCION path</li>}
            {hops.map((h, i) => (
              <li key={i} data-testid="detail-hop" data-ia={h.isdAs} class={g?.offendingHop === i ? 'offending' : ''}>
                <span class="mono">{h.isdAs}</span> {h.country || '??'} {h.geo?.address ? `· ${h.geo.address}` : ''}
                <span class="muted"> if {h.ingressInterface}→{h.egressInterface}</span>
                {g?.offendingHop === i && <strong class="offending-mark"> outside {g.name}</strong>}
              </li>
            ))}
          </ol>
        </>
      )}
      <h4>Identity</h4>
      <div data-testid="detail-identity" class="identity">
        {id ? (
          <>
            identity {id.identity} from cluster {id.clusterName || '?'}, {id.authenticated ? 'authenticated (SPAO)' : 'not authenticated'}, check{' '}
            <strong class={`id-${identityCheckToJSON(id.check)}`}>{identityCheckToJSON(id.check).replace(/^IDENTITY_/, '')}</strong>
          </>
        ) : (
          'no identity extension'
        )}
      </div>
      <h4>JSON</h4>
      <pre data-testid="detail-json" class="json">{JSON.stringify(Flow.toJSON(flow), null, 2)}</pre>
    </aside>
  );
}
