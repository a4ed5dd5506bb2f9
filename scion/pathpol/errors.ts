// Errors of the path policy language: a stable code and the field of the policy at fault.

export type PathPolicyErrorCode =
  | 'BAD_HOP_PREDICATE'
  | 'BAD_ACL'
  | 'BAD_SEQUENCE'
  | 'BAD_ISD_AS_RULE'
  | 'BAD_POLICY'
  | 'UNKNOWN_POLICY'
  | 'POLICY_CYCLE';

export class PathPolicyError extends Error {
  override readonly name = 'PathPolicyError';
  constructor(
    readonly code: PathPolicyErrorCode,
    message: string,
    /** Where in the policy document, e.g. "options[1].policy.acl[0]"; '' for the whole. */
    readonly field = '',
  ) {
    super(field ? `${field}: ${message}` : message);
  }
}
