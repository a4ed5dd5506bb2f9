// npm run bench: every part in one run, one table, the block in docs/benchmarks.md rewritten.
//   npm run bench -- --only collector,relay,query   (parts: datapath, collector, relay, fanout,
//                                                    query, attest, demo; a datapath step by name
//                                                    prefix, e.g. router or srv6)
//   npm run bench -- --no-write                     print only
// Or CILLION_BENCH_ONLY=collector,relay. The datapath and demo parts need root, a BPF-capable
// kernel and the built addon; without them they are skipped and said so, the other parts
// need neither. CILLION_BENCH_DEMO_FLOWS, _PPS and _SECONDS size the demo part (bench/demo.ts).
// CILLION_BENCH_ATTEST_FLOWS sizes the attest part, CILLION_BENCH_RELAY_FLOWS the relay part
// (default 1,000,000 each); CILLION_BENCH_RELAY_PROFILE=1 prints the relay's CPU profile.
// CILLION_BENCH_FANOUT_FLOWS sizes the fanout part (three peered relays; default 300,000).
// Only a run of every part rewrites docs/benchmarks.md, so the table always comes from one run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { attestBench, attestFlows } from './attest';
import { collectorBench } from './collector';
import { datapathBench } from './datapath';
import { demoBench, demoSize } from './demo';
import { fanoutBench, fanoutFlows } from './fanout';
import { queryBench } from './query';
import { relayBench, relayFlows } from './relay';
import { printTable, writeBenchmarks, type Result } from './report';

const PARTS = ['datapath', 'collector', 'relay', 'fanout', 'query', 'attest', 'demo'];
const DATAPATH_STEPS = ['edge egress', 'edge authentication', 'router', 'srv6', 'ring consumer', 'topology'];

function selection(): string[] {
  const i = process.argv.indexOf('--only');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.CILLION_BENCH_ONLY;
  if (raw === undefined || raw === '') return [];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!PARTS.includes(n) && !DATAPATH_STEPS.some((s) => s.startsWith(n))) {
      throw new Error(`--only: unknown part "${n}" (parts: ${PARTS.join(', ')}; datapath steps: ${DATAPATH_STEPS.join(', ')})`);
    }
  }
  return names;
}

/** Why the datapath and demo parts cannot run here, or undefined when it can. */
function datapathMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync(join(__dirname, '..', 'bpf', 'addon', 'build', 'Release', 'cillion_bpf.node'))) return 'the addon is not built (make build)';
  return undefined;
}

async function main(): Promise<void> {
  const only = selection();
  const wanted = (part: string): boolean => only.length === 0 || only.includes(part);
  // Checked first, so a bad size fails before the other parts have run for minutes.
  const attestSize = wanted('attest') ? attestFlows() : 0;
  const relaySize = wanted('relay') ? relayFlows() : 0;
  const fanoutSize = wanted('fanout') ? fanoutFlows() : 0;
  const demo = wanted('demo') ? demoSize() : undefined;
  const results: Result[] = [];
  let complete = only.length === 0;
  const datapathSteps = (step: string): boolean => wanted('datapath') || only.some((n) => step.startsWith(n));
  if (DATAPATH_STEPS.some(datapathSteps)) {
    const missing = datapathMissing();
    if (missing === undefined) {
      results.push(...(await datapathBench(datapathSteps)));
    } else {
      process.stderr.write(`bench: datapath skipped (${missing})\n`);
      complete = false;
    }
  }
  if (wanted('collector')) {
    process.stderr.write('bench: collector...\n');
    results.push(collectorBench());
  }
  if (wanted('relay')) {
    process.stderr.write(`bench: relay (${relaySize.toLocaleString('en-US')} flows)...\n`);
    results.push(...(await relayBench(relaySize)));
  }
  if (wanted('fanout')) {
    process.stderr.write(`bench: fanout (${fanoutSize.toLocaleString('en-US')} flows over 3 relays)...\n`);
    results.push(...(await fanoutBench(fanoutSize)));
  }
  if (wanted('query')) {
    process.stderr.write('bench: query...\n');
    results.push(await queryBench());
  }
  if (wanted('attest')) {
    process.stderr.write(`bench: attest (${attestSize.toLocaleString('en-US')} flows)...\n`);
    results.push(...(await attestBench(attestSize)));
  }
  if (demo !== undefined) {
    const missing = datapathMissing();
    if (missing === undefined) {
      process.stderr.write(`bench: demo (${demo.flows.toLocaleString('en-US')} flows, up to ${demo.seconds} s of traffic)...\n`);
      results.push(...(await demoBench(demo)));
    } else {
      process.stderr.write(`bench: demo skipped (${missing})\n`);
      complete = false;
    }
  }
  printTable(results);
  if (complete && !process.argv.includes('--no-write')) writeBenchmarks(results, new Date().toISOString().slice(0, 10));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
