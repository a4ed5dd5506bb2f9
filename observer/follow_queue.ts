// A caller's own, smaller bound on the flows queued for it while it follows (request metadata
// `cillion-follow-queue`): a viewer that would rather stay near live than be shown every flow
// late asks for a short queue, so that when it cannot keep up it loses flows at once and is
// told so by a LostEvent, instead of reading a backlog seconds old. The server's bound still
// caps it; a value that is no positive whole number is refused.
import { status, type Metadata } from '@grpc/grpc-js';
import { RequestError } from './request_error';

export const FOLLOW_QUEUE_KEY = 'cillion-follow-queue';

/** The follower queue for this call: min(server bound, asked), or undefined when nothing was asked. Throws RequestError. */
export function askedFollowQueue(md: Metadata | undefined, serverBound: number): number | undefined {
  const v = md?.get(FOLLOW_QUEUE_KEY)[0];
  if (v === undefined) return undefined;
  const text = String(v);
  const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw new RequestError(status.INVALID_ARGUMENT, `${FOLLOW_QUEUE_KEY} must be a positive whole number of flows, not "${text.slice(0, 40)}"`);
  return Math.min(serverBound, n);
}
