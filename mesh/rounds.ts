// A job run now and then every interval, never two runs at once: a slow peer delays the next
// round instead of piling rounds up. stop() waits for the round in progress.
export class Rounds {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly round: () => Promise<unknown>) {}

  start(intervalMs: number): void {
    const run = (): void => {
      if (this.running) return;
      this.running = this.round().finally(() => (this.running = undefined));
    };
    run();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
