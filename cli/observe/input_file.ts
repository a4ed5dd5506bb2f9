// `cillion observe --input-file`: the request answered from flows that `observe -o json`
// wrote earlier, instead of from a server. Malformed lines are reported by number after the
// answer from all the good ones, and make the exit status 1.
import { open } from 'node:fs/promises';
import type { GetFlowsRequest, GetFlowsResponse } from '../../proto/gen/observer/observer';
import { FileObserver } from '../../observer/file';
import { readFlowLines, type FlowLines } from '../../observer/flow_lines';
import { RequestError } from '../../observer/request_error';

/** Malformed lines listed one by one; beyond this, only how many more. */
const MAX_LISTED_ERRORS = 10;

async function readInput(path: string): Promise<FlowLines> {
  if (path === '-') return readFlowLines(process.stdin);
  // Opened first so that a missing or unreadable file fails here, with its own message.
  const fh = await open(path, 'r');
  try {
    return await readFlowLines(fh.createReadStream({ autoClose: false }));
  } finally {
    await fh.close();
  }
}

/** Prints the answer through `print`, problems through `err`; resolves to the exit status. */
export async function observeInputFile(
  path: string,
  request: GetFlowsRequest,
  print: (r: GetFlowsResponse) => void,
  err: (line: string) => void,
): Promise<number> {
  const name = path === '-' ? '<stdin>' : path;
  let input: FlowLines;
  try {
    input = await readInput(path);
  } catch (e) {
    err(`cannot read ${name}: ${(e as Error).message}`);
    return 1;
  }
  try {
    await new FileObserver(input.flows).getFlows(request, print);
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    err(`invalid request: ${e.message}`);
    return 1;
  }
  if (input.events > 0) err(`${name}: ${input.events} line(s) hold no flow (lost events, node status) and were skipped`);
  for (const { line, message } of input.errors.slice(0, MAX_LISTED_ERRORS)) err(`${name}:${line}: malformed line: ${message}`);
  const more = input.errors.length - MAX_LISTED_ERRORS;
  if (more > 0) err(`${name}: ${more} more malformed line(s)`);
  return input.errors.length > 0 ? 1 : 0;
}
