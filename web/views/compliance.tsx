// The compliance view: per geofence the flows compliant, violating and unverified (totals
// and, in one chart, per time bucket of the flows' own time), the violating paths most flows
// took, and the signed attestation download (only with the attester role).
import { useState } from 'preact/hooks';
import { GEOFENCE_VERDICT_WORDS, type GeofenceVerdictWord } from '../../observer/filters/flags';
import { AttestInputError, downloadAttestation, exportRequest } from '../api/attest';
import type { Whoami } from '../api/http';
import type { FenceCounts } from '../state/compliance_tally';
import type { FlowDeck } from '../state/flow_deck';
import { useSlowTick } from '../ticks';

const FENCE_WORDS = Object.keys(GEOFENCE_VERDICT_WORDS) as GeofenceVerdictWord[];
const BUCKETS_SHOWN = 60;
const CHART = { w: 900, rowH: 70, label: 150, gap: 14 } as const;

function Chart({ fences, bucketMs }: { fences: FenceCounts[]; bucketMs: number }) {
  const newest = Math.max(0, ...fences.flatMap((f) => [...f.buckets.keys()]));
  const starts = Array.from({ length: BUCKETS_SHOWN }, (_, i) => newest - (BUCKETS_SHOWN - 1 - i) * bucketMs);
  const bw = (CHART.w - CHART.label) / BUCKETS_SHOWN;
  const h = fences.length * (CHART.rowH + CHART.gap) + 20;
  return (
    <svg data-testid="compliance-chart" class="compliance-chart" viewBox={`0 0 ${CHART.w} ${h}`} width="100%">
      {fences.map((f, row) => {
        const y0 = row * (CHART.rowH + CHART.gap);
        const max = Math.max(1, ...starts.map((s) => {
          const b = f.buckets.get(s);
          return b ? b.compliant + b.violation + b.unverified : 0;
        }));
        return (
          <g key={f.fence}>
            <text class="chart-label" x={0} y={y0 + CHART.rowH / 2}>{f.fence}</text>
            <text class="chart-max" x={0} y={y0 + CHART.rowH / 2 + 14}>max {max}/bucket</text>
            <line class="chart-axis" x1={CHART.label} x2={CHART.w} y1={y0 + CHART.rowH} y2={y0 + CHART.rowH} />
            {starts.map((s, i) => {
              const b = f.buckets.get(s);
              if (!b) return null;
              let y = y0 + CHART.rowH;
              return (['compliant', 'unverified', 'violation'] as const).map((k) => {
                const bh = (b[k] / max) * CHART.rowH;
                y -= bh;
                return bh > 0 ? <rect key={`${i}${k}`} class={`bar bar-${k}`} x={CHART.label + i * bw + 1} y={y} width={Math.max(1, bw - 2)} height={bh}><title>{`${new Date(s).toISOString().slice(11, 19)}: ${k} ${b[k]}`}</title></rect> : null;
              });
            })}
          </g>
        );
      })}
      <text class="chart-axis-label" x={CHART.label} y={h - 4}>{fences.length ? new Date(starts[0]).toISOString().slice(11, 19) : ''}</text>
      <text class="chart-axis-label" x={CHART.w} y={h - 4} text-anchor="end">{fences.length ? `${new Date(newest).toISOString().slice(11, 19)} UTC, ${bucketMs / 1000} s per bar` : ''}</text>
    </svg>
  );
}

export function ComplianceView({ deck, who }: { deck: FlowDeck; who: Whoami | null }) {
  useSlowTick(deck);
  const tally = deck.compliance;
  const fences = [...tally.fences.values()].sort((a, b) => (a.fence < b.fence ? -1 : 1));
  const top = tally.topPaths(10);
  return (
    <section data-testid="view-compliance" class="view compliance-view">
      <div class="fences">
        {fences.length === 0 && <p class="empty">No flows checked against a geofence yet.</p>}
        {fences.map((f) => (
          <div key={f.fence} data-testid="compliance-fence" data-fence={f.fence} class="fence-card">
            <h3>{f.fence}{f.namespace ? <span class="muted"> ({f.namespace})</span> : null}</h3>
            <div class="counts">
              {FENCE_WORDS.map((w) => (
                <span key={w} class={`fence-${w}`}>{w} <strong data-testid={`count-${w}`}>{f.totals[w]}</strong></span>
              ))}
            </div>
          </div>
        ))}
      </div>
      <Chart fences={fences} bucketMs={tally.bucketMs} />
      <h3>Top violating paths</h3>
      <table class="top-paths">
        <thead>
          <tr><th>flows</th><th>fence</th><th>kind</th><th>offending hop</th><th>path</th></tr>
        </thead>
        <tbody>
          {top.length === 0 && <tr><td colSpan={5} class="muted">none</td></tr>}
          {top.map((p) => (
            <tr key={`${p.fence}|${p.kind}|${p.hops.join('>')}`} data-testid="top-violating-path" data-kind={p.kind}>
              <td>{p.flows}</td>
              <td>{p.fence}</td>
              <td>{p.kind}</td>
              <td>{p.offendingIa} ({p.offendingCountry || '?'})</td>
              <td class="mono">{p.hops.map((h) => (h === p.offendingIa ? `[${h}]` : h)).join(' → ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <AttestForm who={who} />
    </section>
  );
}

function AttestForm({ who }: { who: Whoami | null }) {
  const [since, setSince] = useState('1h');
  const [until, setUntil] = useState('');
  const [selector, setSelector] = useState('');
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const allowed = who?.roles.includes('attester') === true;
  const why = !who ? 'waiting for whoami' : allowed ? 'download a relay-signed attestation of the range' : `this certificate (${who.name || 'anonymous'}) lacks the attester role`;
  const go = async () => {
    let req;
    try {
      req = exportRequest(since.trim(), until.trim(), selector.trim(), new Date());
    } catch (e) {
      if (e instanceof AttestInputError) return setStatus(e.message);
      throw e;
    }
    setBusy(true);
    setStatus('exporting…');
    try {
      const { name, bytes } = await downloadAttestation(req);
      setStatus(`saved ${name} (${bytes} bytes); check it with: cillion attest verify ${name} --key RELAY_PUBLIC_KEY`);
    } catch (e) {
      setStatus(`export failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="attest">
      <h3>Signed attestation</h3>
      <label><span>since</span><input data-testid="attest-since" value={since} onInput={(e) => setSince((e.target as HTMLInputElement).value)} /></label>
      <label><span>until</span><input data-testid="attest-until" value={until} placeholder="now" onInput={(e) => setUntil((e.target as HTMLInputElement).value)} /></label>
      <label><span>selector</span><input data-testid="attest-selector" value={selector} placeholder="app=replication" onInput={(e) => setSelector((e.target as HTMLInputElement).value)} /></label>
      <button data-testid="attest-download" disabled={!allowed || busy} title={why} onClick={() => void go()}>
        Download attestation
      </button>
      <span data-testid="attest-status" class="attest-status">{status || (!allowed && who ? why : '')}</span>
    </div>
  );
}
