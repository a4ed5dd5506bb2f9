// The SCION path policy language (scionproto/scion pathpol), for filtering candidate paths.
export { Acl, type AclEntry } from './acl';
export { PathPolicyError, type PathPolicyErrorCode } from './errors';
export { formatHopPredicate, matchesInterface, parseHopPredicate, type HopPredicate } from './hop_predicate';
export { LocalIsdAs, RemoteIsdAs, type RemoteRule } from './isdas_rules';
export type { PolicyPath } from './path';
export { parsePolicies, parsePolicy, Policy, type PolicyOption } from './policy';
export { Sequence, sequenceString } from './sequence';
