// Splits a streamed NDJSON body into lines as chunks arrive: a line may span chunks, a chunk
// may hold many lines. One line is bounded, so a server that never sends a newline cannot
// make the page hold an ever-growing string.
export class NdjsonLineError extends Error {
  readonly code = 'NDJSON_LINE_TOO_LONG';
}

export class NdjsonLines {
  private rest = '';

  constructor(private readonly maxLine = 4 << 20) {}

  /** The complete lines in `chunk` (after what earlier chunks left), empty lines skipped. */
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    if (this.rest.length > this.maxLine) throw new NdjsonLineError(`a line longer than ${this.maxLine} characters`);
    return parts.filter((l) => l.trim() !== '');
  }

  /** What is left when the body ends: the last line when it had no newline. */
  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last.trim() === '' ? [] : [last];
  }
}
