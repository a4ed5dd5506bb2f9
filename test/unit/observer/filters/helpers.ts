// Builds a flow and a filter from partials and asks the real matcher, so every filter test
// also goes through index.ts's composition.
import assert from 'node:assert/strict';
import { Flow, FlowFilter, type DeepPartial } from '../../../../proto/gen/flow/flow';
import { FilterError, flowMatcher } from '../../../../observer/filters';


export function matches(filter: DeepPartial<FlowFilter>, flow: DeepPartial<Flow>): boolean {
  return flowMatcher([FlowFilter.fromPartial(filter as FlowFilter)], [])(Flow.fromPartial(flow as Flow));
}

export function rejects(filter: DeepPartial<FlowFilter>, pattern: RegExp): void {
  assert.throws(() => flowMatcher([FlowFilter.fromPartial(filter as FlowFilter)], []), (e: unknown) => {
    assert.ok(e instanceof FilterError);
    assert.equal(e.code, 'BAD_FILTER');
    assert.match(e.message, pattern);
    return true;
  });
}

