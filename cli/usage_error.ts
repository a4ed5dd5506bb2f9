// A command line that cannot be run as given: the commands print it and exit 2.
export class UsageError extends Error {
  readonly code = 'USAGE';
}
