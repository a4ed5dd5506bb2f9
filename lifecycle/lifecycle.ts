// A process's start-up and shutdown in one place. Each step that starts something records
// how to stop it; stopping (on shutdown, or when a later step fails to start) runs those
// stops last-started first, so nothing is left running that depends on what already went.
// Imports nothing: every process (relay, agent, operator, router, demo) can use it.

export type Stop = () => void | Promise<void>;

export class Lifecycle {
  /** Named, so a debugger or a failing test shows what is still running. */
  private readonly stops: Array<{ name: string; stop: Stop }> = [];
  private stopping: Promise<void> | undefined;

  /** Records how to stop what was just started; it is stopped before everything recorded earlier. */
  defer(name: string, stop: Stop): void {
    if (this.stopping) throw new Error(`${name}: started while the process stops`);
    this.stops.push({ name, stop });
  }

  /** Runs one start step and records its stop; when the step throws, nothing is recorded for it. */
  async start<T>(name: string, start: () => T | Promise<T>, stopOf: (started: T) => Stop): Promise<T> {
    const started = await start();
    this.defer(name, stopOf(started));
    return started;
  }

  /**
   * Runs `body` (the process's start steps); when it throws, everything it started is stopped,
   * last first, and its error is thrown on.
   */
  async starting<T>(body: (life: this) => Promise<T>): Promise<T> {
    try {
      return await body(this);
    } catch (e) {
      await this.stop().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Stops every recorded step once, last started first. A stop that fails does not keep the
   * others from running; the first failure is thrown once all have run.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      let failure: { error: unknown } | undefined;
      for (const { stop } of this.stops.reverse()) {
        try {
          await stop();
        } catch (e) {
          failure ??= { error: e };
        }
      }
      this.stops.length = 0;
      if (failure) throw failure.error;
    })();
    return this.stopping;
  }
}
