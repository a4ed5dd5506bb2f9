// How many flow streams a server serves at once. Each GetFlows holds a follower queue, a
// history read in the store, or both; past the bound a new call is refused with
// RESOURCE_EXHAUSTED instead of growing the server's memory with every client that opens one.
export class StreamSlots {
  private open = 0;

  constructor(readonly max: number) {}

  /** A slot for one stream, and the function that gives it back (once, however often called); undefined when none is free. */
  take(): (() => void) | undefined {
    if (this.open >= this.max) return undefined;
    this.open++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.open--;
    };
  }
}
