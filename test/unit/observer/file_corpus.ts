// Realistic flows for the file-backed observer tests, and the file `observe -o json` makes of
// them. The store corpus plus the Cilium event type every real flow carries: a trace event
// (to-endpoint or to-stack) when forwarded, a drop event with its reason code when dropped.
import pc from 'picocolors';
import { DropReason, Flow, Verdict } from '../../../proto/gen/flow/flow';
import { FlowPrinter, type Output } from '../../../cli/observe/format';
import { makeCorpus } from '../relay/store/corpus';

const TRACE = 4;
const DROP = 1;
const TO_ENDPOINT = 0;
const TO_STACK = 3;

export function fileCorpus(n: number, seed = 7): Flow[] {
  return makeCorpus(n, seed).map((f, i) =>
    Flow.fromPartial({
      ...f,
      eventType: f.verdict === Verdict.DROPPED ? { type: DROP, subType: DropReason.POLICY_DENIED } : { type: TRACE, subType: i % 2 ? TO_ENDPOINT : TO_STACK },
    }),
  );
}

/** The lines `cillion observe -o <output>` prints for these flows, as a relay sends them. */
export function flowFile(flows: readonly Flow[], output: Extract<Output, 'json' | 'jsonpb'> = 'json'): string {
  const lines: string[] = [];
  const printer = new FlowPrinter({ output, colors: pc.createColors(false), printNodeName: false, timeFormat: 'StampMilli' }, (l) => lines.push(l));
  for (const f of flows) printer.print({ responseTypes: { $case: 'flow', value: f }, nodeName: f.nodeName, time: f.time });
  return lines.map((l) => `${l}\n`).join('');
}
