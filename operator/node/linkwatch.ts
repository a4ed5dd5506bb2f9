// Watches the carrier of the node's uplink devices, so a failed link moves its traffic to
// paths over the other uplinks at once instead of at the next refresh. Polls iproute2:
// rtnetlink events would be quicker, but a second of delay is well inside what a failover
// tolerates and polling needs no native code.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WatchedLink {
  ifid: number;
  device: string;
}

export interface LinkWatchOptions {
  links: readonly WatchedLink[];
  netns?: string;
  intervalMs?: number;
  onChange: (ifid: number, up: boolean) => void;
  onError?: (error: Error) => void;
}

/** Up means administratively up with a carrier (iproute2's UP and LOWER_UP flags). */
async function carrier(device: string, netns: string | undefined): Promise<boolean> {
  const { stdout } = await run('ip', [...(netns ? ['-n', netns] : []), '-j', 'link', 'show', 'dev', device]);
  const [link] = JSON.parse(stdout) as Array<{ flags?: string[] }>;
  const flags = link?.flags ?? [];
  return flags.includes('UP') && flags.includes('LOWER_UP');
}

export class LinkWatch {
  private readonly state = new Map<number, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;

  constructor(private readonly opts: LinkWatchOptions) {}

  /** Reads the current states (reported only when they change later) and starts polling. */
  async start(): Promise<void> {
    await this.poll(false);
    this.timer = setInterval(() => void this.reading(), this.opts.intervalMs ?? 1000);
  }

  /**
   * Reads every link now and reports what changed since the last reading. Resolves once a
   * reading begun after the call has finished, so what the links were at the call is reported
   * by then: a caller that changed a link waits on this, not on the polling interval.
   */
  async check(): Promise<void> {
    await this.polling;
    await this.reading();
  }

  /** The reading in flight, or a new one: never two at once, so each change is reported once. */
  private reading(): Promise<void> {
    this.polling ??= this.poll(true).finally(() => (this.polling = null));
    return this.polling;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  private async poll(report: boolean): Promise<void> {
    for (const l of this.opts.links) {
      let up: boolean;
      try {
        up = await carrier(l.device, this.opts.netns);
      } catch (e) {
        // A device that vanished is a link that is down.
        this.opts.onError?.(e as Error);
        up = false;
      }
      const before = this.state.get(l.ifid);
      this.state.set(l.ifid, up);
      if (report && before !== undefined && before !== up) this.opts.onChange(l.ifid, up);
    }
  }
}
