// The one error a filter throws: the value a client sent cannot be a filter. Servers map
// it to gRPC INVALID_ARGUMENT, so the message names the field and the bad value.
export class FilterError extends Error {
  readonly code = 'BAD_FILTER';

  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}
