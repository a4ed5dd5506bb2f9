// The web UI in headless Chromium against a real relay (mutual TLS, the demo's fences, the
// example topology's path checks, an embedded store) fed the demo's flows over FlowExport:
// each view shows what was fed, exactly (counts, countries, ASes, the violation's fence and
// hop), SRv6 flows beside them (relay-rebuilt from their SRH with the demo's SID catalogue),
// filters and pause act on the table, the attestation downloaded by the attester's
// certificate verifies with the real CLI, and the certificate decides what the page may do.
// Screenshots of every view go to test-artifacts/web/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Flow } from '../../proto/gen/flow/flow';
import { until } from '../until';
import { launchChromium, openPage, screenshot, type WatchedPage } from './browser';
import { DemoTraffic, VIOLATION, COMPLIANT_FENCE, type NodeFlow } from './demo_flows';
import { BACKUP } from '../unit/paths/srv6_fixture';
import { SRV6_FENCE, SRV6_FENCE_YAML, srv6Flows } from './srv6_flows';
import { startWebTestRelay, type BrowserCert, type WebTestRelay } from './test_relay';
import { attrs, byTestId, numberIn, streamState, untilLive, untilNumber, untilSome } from './page_wait';

const ROOT = resolve(__dirname, '../..');
/** Every view asks for the last quarter hour: all the flows the tests feed. */
const SINCE = 'since=15m';

const isAnalytics = (f: Flow): boolean => f.source?.namespace === 'analytics';
const isReplication = (f: Flow): boolean => f.source?.namespace === 'db';
const hasHopFields = (f: Flow): boolean => (f.scionPath?.raw.length ?? 0) > 0;

describe('web UI in Chromium', function () {
  this.timeout(60_000);
  let demo: WebTestRelay;
  let browser: Browser;
  const traffic = new DemoTraffic();
  /** Every flow fed so far: what each view, which reads the last quarter hour, must show. */
  const fed: Flow[] = [];
  const count = (pred: (f: Flow) => boolean): number => fed.filter(pred).length;

  async function feed(flows: NodeFlow[]): Promise<void> {
    await demo.feed(flows);
    fed.push(...flows.map((f) => f.flow));
  }

  /** Opens `hash` with `cert`, runs `body`, then fails on any console error of the page. */
  async function withPage(cert: BrowserCert, hash: string, body: (page: Page) => Promise<void>): Promise<void> {
    const p: WatchedPage = await openPage(browser, demo.url, cert);
    try {
      await p.page.goto(`${demo.url}/${hash}`);
      await body(p.page);
      assert.deepEqual(p.errors, [], 'the page logged no error');
    } finally {
      await p.context.close();
    }
  }

  before(async function () {
    this.timeout(60_000);
    demo = await startWebTestRelay();
    browser = await launchChromium();
    // A minute of the demo's traffic, all four nodes, stored before any page opens.
    await feed(traffic.flows(600, Date.now(), 60_000, 7));
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('without a client certificate the page cannot load', async () => {
    const p = await openPage(browser, demo.url, undefined);
    try {
      // The TLS handshake fails (the relay requires a certificate), not the connection: a relay
      // that is not there would say ERR_CONNECTION_REFUSED.
      await assert.rejects(p.page.goto(`${demo.url}/#/map`), /net::ERR_(SOCKET_NOT_CONNECTED|BAD_SSL_CLIENT_AUTH_CERT|SSL_PROTOCOL_ERROR|CONNECTION_RESET|CONNECTION_CLOSED) /);
    } finally {
      await p.context.close();
    }
  });

  it('the world map draws the demo countries and ASes, the paths in use, and the violation with its fence and hop', async () => {
    const hops = traffic.routes.flatMap((r) => r.paths.flatMap((p) => p.hops));
    const crossed = [...new Set(hops.map((h) => h.country))].sort();
    const ases = [...new Set(hops.map((h) => h.isdAs))].sort();
    assert.deepEqual(crossed, ['CH', 'DE', 'NL', 'US'], 'the demo paths cross these countries');
    await withPage(demo.attester, `#/world?${SINCE}`, async (page) => {
      await untilLive(page);
      await until('every AS of the demo paths on the map', async () => (await attrs(page, byTestId('as'), 'data-ia')).length >= ases.length, 15_000, 50);
      for (const iso of ['CH', 'DE', 'NL', 'FR', 'US', 'SG', 'AT', 'IT']) assert.equal(await page.locator(`svg${byTestId('world-map')} path${byTestId('country', { iso2: iso })}`).count(), 1, `country ${iso} drawn once`);
      const crossedOnMap = (await attrs(page, `${byTestId('country')}[data-crossed="true"]`, 'data-iso2')).sort();
      assert.deepEqual(crossedOnMap, crossed, 'exactly the countries the paths cross are marked');
      assert.deepEqual((await attrs(page, byTestId('as'), 'data-ia')).sort(), ases, 'the ASes of the paths in view');
      assert.equal(await page.locator(byTestId('as', { ia: VIOLATION.ia, country: VIOLATION.country })).count(), 1, 'Ashburn placed in the US');
      const verdicts = await page.locator(byTestId('path-link')).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}:${e.getAttribute('data-verdict')}`));
      assert.ok(verdicts.some((v) => v.includes(VIOLATION.ia) && v.endsWith(':violation')), `a link to Ashburn is drawn as a violation: ${verdicts.join(' ')}`);
      assert.ok(verdicts.some((v) => v.endsWith(':compliant')), `replication's links are drawn compliant: ${verdicts.join(' ')}`);
      assert.equal(await page.locator(byTestId('offending-hop', { ia: VIOLATION.ia, fence: VIOLATION.fence })).count(), 1, 'the offending hop is highlighted with its fence');
      assert.deepEqual(await attrs(page, byTestId('offending-hop'), 'data-ia'), [VIOLATION.ia], 'no other hop is highlighted');
      const legend = await page.locator(byTestId('violation', { fence: VIOLATION.fence })).textContent();
      for (const part of [VIOLATION.fence, VIOLATION.ia, VIOLATION.country]) assert.ok(legend?.includes(part), `the legend names ${part}: "${legend}"`);
      await screenshot(page, 'world-map');
    });
  });

  it('the service map shows both clusters and the cross-cluster edges with their flow counts; an edge lists its flows', async () => {
    await withPage(demo.attester, `#/map?${SINCE}`, async (page) => {
      await untilLive(page);
      const edge = byTestId('edge', { src: 'zurich/analytics/analytics', dst: 'frankfurt/analytics/analytics' });
      await untilSome(page, edge, 15_000);
      assert.deepEqual((await attrs(page, byTestId('cluster'), 'data-cluster')).sort(), ['frankfurt', 'zurich']);
      const workloads = await attrs(page, byTestId('workload'), 'data-workload');
      for (const w of ['billing', 'video', 'replication', 'analytics']) assert.ok(workloads.includes(w), `workload ${w} drawn: ${workloads.join(',')}`);
      assert.equal(await page.locator(edge).getAttribute('data-cross-cluster'), 'true');
      // Analytics goes through Ashburn (US), outside its fence: the edge is marked a violation.
      assert.equal(await page.locator(edge).getAttribute('data-geofence'), 'violation');
      assert.match((await page.locator(`${edge} title`).textContent()) ?? '', /geofence: violation/);
      await until('the edge to count every analytics flow', async () => Number(await page.locator(edge).getAttribute('data-flows')) === count(isAnalytics), 10_000, 50);
      const back = byTestId('edge', { src: 'frankfurt/db/replication', dst: 'zurich/db/replication' });
      const backFlows = count((f) => isReplication(f) && f.source?.clusterName === 'frankfurt');
      await until(`replication back to Zurich counted (${backFlows})`, async () => Number(await page.locator(back).getAttribute('data-flows')) === backFlows, 10_000, 50);
      await page.locator(edge).first().click({ timeout: 5000 });
      await untilSome(page, byTestId('edge-detail'));
      const rows = await untilSome(page, `${byTestId('edge-detail')} ${byTestId('edge-flow')}`);
      assert.ok(rows <= count(isAnalytics), `the edge lists only its own flows (${rows})`);
      assert.match((await page.locator(byTestId('edge-detail')).textContent()) ?? '', /66-2:0:10/, 'with their path through Ashburn');
      await screenshot(page, 'service-map');
    });
  });

  it('filters change the table rows: through-country US keeps the analytics flows, namespace db the replication ones, a bad value is refused', async () => {
    const analytics = new Set(fed.filter(isAnalytics).map((f) => f.uuid));
    await withPage(demo.attester, `#/flows?${SINCE}`, async (page) => {
      await untilLive(page);
      await untilNumber(page, byTestId('flow-count'), fed.length);
      await page.locator(byTestId('filter-through-country')).fill('US');
      await page.locator(byTestId('filter-apply')).click({ timeout: 5000 });
      await until('the hash to carry the filter', async () => page.url().includes('through-country=US'), 5000, 50);
      await untilNumber(page, byTestId('flow-count'), analytics.size);
      await untilLive(page);
      const rows = await attrs(page, byTestId('flow-row'), 'data-uuid');
      assert.ok(rows.length > 0 && rows.every((u) => analytics.has(u)), `every row is an analytics flow through the US (${rows.length} rows)`);
      await screenshot(page, 'flows-filtered');
      await page.locator(byTestId('filter-through-country')).fill('');
      await page.locator(byTestId('filter-namespace')).fill('db');
      await page.locator(byTestId('filter-apply')).click({ timeout: 5000 });
      await untilNumber(page, byTestId('flow-count'), count(isReplication));
      const db = new Set(fed.filter(isReplication).map((f) => f.uuid));
      assert.ok((await attrs(page, byTestId('flow-row'), 'data-uuid')).every((u) => db.has(u)), 'every row is a replication flow');
      await page.locator(byTestId('filter-since')).fill('yesterday-ish');
      await page.locator(byTestId('filter-apply')).click({ timeout: 5000 });
      await untilSome(page, byTestId('filter-error'), 5000);
      assert.match((await page.locator(byTestId('filter-error')).textContent()) ?? '', /since/);
    });
  });

  it('a flow detail shows its hops, identity check and raw JSON', async () => {
    const analytics = fed.filter(isAnalytics);
    const hops = analytics[0].scionPath?.hops.map((h) => h.isdAs) ?? [];
    await withPage(demo.attester, `#/flows?${SINCE}&namespace=analytics`, async (page) => {
      await untilLive(page);
      await untilNumber(page, byTestId('flow-count'), analytics.length);
      const row = page.locator(byTestId('flow-row')).first();
      const uuid = await row.getAttribute('data-uuid');
      await row.click({ timeout: 5000 });
      // The stream carries only what the views draw; the detail fetches the whole flow by uuid.
      await untilSome(page, '[data-testid="flow-detail"][data-whole="true"]');
      const shown = await page.locator(byTestId('detail-hop')).evaluateAll((els) => els.map((e) => e.textContent ?? ''));
      assert.equal(shown.length, hops.length, `one detail-hop per AS: ${shown.join(' | ')}`);
      shown.forEach((text, i) => assert.ok(text.includes(hops[i]), `hop ${i} names ${hops[i]}: "${text}"`));
      assert.ok(shown.some((t) => t.includes('US')), 'the US hop names its country');
      assert.match((await page.locator(byTestId('detail-identity')).textContent()) ?? '', /match/i, 'the identity extension check is shown');
      const json = JSON.parse((await page.locator(byTestId('detail-json')).textContent()) ?? '') as { uuid?: string; geofence?: { name?: string; verdict?: string } };
      assert.equal(json.uuid, uuid, 'the JSON is the clicked flow');
      assert.equal(json.geofence?.name, VIOLATION.fence);
      assert.equal(json.geofence?.verdict, 'GEOFENCE_VIOLATION');
      await screenshot(page, 'flow-detail');
    });
  });

  it('the compliance view counts each fence\'s verdicts as the relay judged them', async () => {
    await withPage(demo.attester, `#/compliance?${SINCE}`, async (page) => {
      await untilLive(page);
      const fence = (name: string, what: string): string => `${byTestId('compliance-fence', { fence: name })} ${byTestId(what)}`;
      await untilNumber(page, fence(VIOLATION.fence, 'count-violation'), count(isAnalytics));
      assert.equal(await numberIn(page, fence(VIOLATION.fence, 'count-compliant')), 0);
      await untilNumber(page, fence(COMPLIANT_FENCE, 'count-compliant'), count((f) => isReplication(f) && hasHopFields(f)));
      await untilNumber(page, fence(COMPLIANT_FENCE, 'count-unverified'), count((f) => isReplication(f) && !hasHopFields(f)));
      assert.equal(await numberIn(page, fence(COMPLIANT_FENCE, 'count-violation')), 0);
      assert.equal(await page.locator(`svg${byTestId('compliance-chart')}`).count(), 1);
      const top = await untilSome(page, byTestId('top-violating-path'));
      assert.equal(top, 1, 'one violating path: analytics through Ashburn');
      assert.match((await page.locator(byTestId('top-violating-path')).textContent()) ?? '', /66-2:0:10/);
      await screenshot(page, 'compliance');
    });
  });

  it('pause holds arriving flows back and counts them; resume shows them', async () => {
    await withPage(demo.attester, `#/flows?${SINCE}`, async (page) => {
      await untilLive(page);
      const before = fed.length;
      await untilNumber(page, byTestId('flow-count'), before);
      await page.locator(byTestId('pause')).click({ timeout: 5000 });
      await until('the stream paused', async () => (await streamState(page)) === 'paused', 5000, 50);
      assert.equal((await page.locator(byTestId('pause')).textContent())?.trim(), 'Resume');
      const more = traffic.flows(150, Date.now(), 2000, 11);
      await feed(more);
      await untilNumber(page, byTestId('pending-count'), more.length);
      assert.equal(await numberIn(page, byTestId('flow-count')), before, 'the table holds still while paused');
      await screenshot(page, 'flows-paused');
      await page.locator(byTestId('pause')).click({ timeout: 5000 });
      await untilNumber(page, byTestId('flow-count'), before + more.length);
      assert.equal(await streamState(page), 'live');
      assert.equal((await page.locator(byTestId('pause')).textContent())?.trim(), 'Pause');
      const rows = new Set(await attrs(page, byTestId('flow-row'), 'data-uuid'));
      assert.ok(more.some((f) => rows.has(f.flow.uuid)), 'the held flows are in the table');
      await screenshot(page, 'flows');
    });
  });

  it('the attester downloads a signed attestation that `cillion attest verify` accepts', async () => {
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    const untilTime = new Date(Date.now() + 1000).toISOString();
    await withPage(demo.attester, `#/compliance?${SINCE}`, async (page) => {
      await untilLive(page);
      assert.match((await page.locator(byTestId('whoami')).textContent()) ?? '', /ui-attester.*attester|attester.*ui-attester/s);
      await page.locator(byTestId('attest-since')).fill(since);
      await page.locator(byTestId('attest-until')).fill(untilTime);
      await page.locator(byTestId('attest-selector')).fill('app=analytics');
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.locator(byTestId('attest-download')).click()]);
      assert.match(download.suggestedFilename(), /^attestation-zurich-relay-.+\.tar$/);
      const file = join(demo.dir, download.suggestedFilename());
      await download.saveAs(file);
      await until('the attest status to report the download', async () => ((await page.locator(byTestId('attest-status')).textContent()) ?? '') !== '', 5000, 50);
      const verify = await cillion(['attest', 'verify', file, '--key', demo.publicKey]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /^VERIFIED /);
      const n = count(isAnalytics);
      assert.match(verify.stdout, new RegExp(`: ${n} flows, ${n} violations, 0 unverified`), 'every analytics flow is in it, each a violation');
      assert.match(verify.stdout, new RegExp(`evidence .*: ${n} flows, Merkle root = subject digest`), 'the evidence in the tar was checked');
      await screenshot(page, 'compliance-attested');
    });
  });

  it('with only the reader certificate the attestation button is disabled and says why', async () => {
    await withPage(demo.reader, `#/compliance?${SINCE}`, async (page) => {
      await untilLive(page);
      assert.match((await page.locator(byTestId('whoami')).textContent()) ?? '', /ui-reader/);
      const button = page.locator(byTestId('attest-download'));
      assert.equal(await button.isDisabled(), true);
      assert.match((await button.getAttribute('title')) ?? '', /attester/);
      await screenshot(page, 'compliance-reader');
    });
  });

  // Last, so the SCION views above see the SCION traffic alone. Each page is open before its
  // SRv6 flows arrive: the views read them as the relay streams them live.
  it('SRv6 flows: kind and segment nodes in the table, nodes and dashed links on the world map with the offending segment ringed', async () => {
    writeFileSync(join(demo.dir, 'resources', 'srv6-fence.yaml'), SRV6_FENCE_YAML);
    await until('the SRv6 fence in force', () => demo.relay.geofences.get(SRV6_FENCE.fence) !== undefined);
    const isBackup = (f: NodeFlow): boolean => f.flow.source?.namespace === 'archive';
    await withPage(demo.attester, `#/flows?${SINCE}&namespace=archive`, async (page) => {
      await untilLive(page);
      const srv6 = srv6Flows(30, Date.now(), 5_000, 0);
      await feed(srv6);
      await untilNumber(page, byTestId('flow-count'), srv6.filter(isBackup).length);
      const kinds = await attrs(page, byTestId('flow-kind'), 'class');
      assert.ok(kinds.length > 0 && kinds.every((k) => k.includes('kind-SRv6')), `every archive row is an SRv6 flow: ${kinds.join(',')}`);
      const text = (await page.locator(byTestId('flow-row')).first().textContent()) ?? '';
      assert.match(text, /SRv6/);
      assert.match(text, /pe-zurich \(CH\) → p-milan \(IT\) → p-vienna \(AT\) → pe-frankfurt \(DE\) → fra-node-1 \(DE\)/, `the path column names each segment's node and country: "${text}"`);
      assert.match(text, new RegExp(`violation ${SRV6_FENCE.fence}`), 'judged against the DACH fence');
      await screenshot(page, 'flows-srv6');
      // The detail fetches the whole flow from the store by uuid: its SRv6 path as stored.
      await page.locator(byTestId('flow-row')).first().click({ timeout: 5000 });
      await untilSome(page, '[data-testid="flow-detail"][data-whole="true"]');
      assert.deepEqual(await attrs(page, byTestId('detail-segment'), 'data-sid'), BACKUP, 'the segments in travel order');
      const segments = await page.locator(byTestId('detail-segment')).evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', offending: e.classList.contains('offending') })));
      ['pe-zurich', 'p-milan', 'p-vienna', 'pe-frankfurt', 'fra-node-1'].forEach((node, i) => assert.ok(segments[i].text.includes(node), `segment ${i} names ${node}: "${segments[i].text}"`));
      assert.match(segments[4].text, /End\.DT4/);
      assert.deepEqual(segments.map((x) => x.offending), [false, true, false, false, false], 'Milan\'s segment, and no other, outside the fence');
      assert.match(segments[1].text, new RegExp(`IT.*outside ${SRV6_FENCE.fence}`));
      assert.equal(await page.locator(byTestId('detail-hmac')).textContent(), 'VERIFIED', 'the relay checked the HMAC TLV with key 1');
      const facts = (await page.locator(byTestId('detail-srv6')).textContent()) ?? '';
      assert.match(facts, /VRF 200/);
      assert.match(facts, /\(key 1\)/);
      assert.match(facts, /encapsulated by fc00:0:101::1/);
      const json = JSON.parse((await page.locator(byTestId('detail-json')).textContent()) ?? '') as { pathType?: string; srv6Path?: { segments?: string[] } };
      assert.equal(json.pathType, 'WAN_PATH_SRV6');
      assert.deepEqual(json.srv6Path?.segments, BACKUP);
      await screenshot(page, 'flow-detail-srv6');
    });
    await withPage(demo.attester, `#/world?${SINCE}`, async (page) => {
      await untilLive(page);
      await feed(srv6Flows(30, Date.now(), 5_000, 30));
      await until('the SRv6 nodes on the map', async () => (await attrs(page, byTestId('srv6-node'), 'data-node')).length >= 5, 15_000, 50);
      assert.deepEqual((await attrs(page, byTestId('srv6-node'), 'data-node')).sort(), ['fra-node-1', 'p-milan', 'p-vienna', 'pe-frankfurt', 'pe-zurich']);
      assert.equal(await page.locator(byTestId('srv6-node', { node: 'p-vienna', country: 'AT' })).count(), 1, 'Vienna placed in Austria');
      const links = await page.locator(byTestId('srv6-link')).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}:${e.getAttribute('data-verdict')}`));
      assert.ok(links.includes('p-milan>pe-zurich:violation'), `Zurich–Milan drawn as a violation: ${links.join(' ')}`);
      assert.ok(links.includes('pe-frankfurt>pe-zurich:none'), `voip's direct link, no fence: ${links.join(' ')}`);
      assert.equal(await page.locator(`${byTestId('srv6-link')}.link-srv6`).count(), links.length, 'every SRv6 link is drawn dashed');
      assert.deepEqual(await attrs(page, byTestId('offending-segment'), 'data-sid'), [SRV6_FENCE.sid], 'Milan\'s segment ringed, no other');
      assert.deepEqual(await attrs(page, byTestId('offending-segment'), 'data-node'), [SRV6_FENCE.node]);
      const crossed = await attrs(page, `${byTestId('country')}[data-crossed="true"]`, 'data-iso2');
      for (const c of ['AT', 'IT']) assert.ok(crossed.includes(c), `${c} marked crossed: ${crossed.join(',')}`);
      const legend = (await page.locator(`${byTestId('violation', { fence: SRV6_FENCE.fence })}[data-sid]`).textContent()) ?? '';
      for (const part of [SRV6_FENCE.sid, SRV6_FENCE.node, SRV6_FENCE.country]) assert.ok(legend.includes(part), `the legend names ${part}: "${legend}"`);
      assert.match((await page.locator(byTestId('path-kind-legend')).textContent()) ?? '', /SCION.*SRv6/s);
      await screenshot(page, 'world-map-srv6');
    });
  });
});

function cillion(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
