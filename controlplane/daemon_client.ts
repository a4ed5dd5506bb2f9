// PathService over the SCION daemon's gRPC API (daemon.v1), the control plane of a real
// deployment. Every call carries a deadline; every failure rejects with a DaemonError
// whose code is stable (UNAVAILABLE, DEADLINE_EXCEEDED, BAD_RESPONSE, ...), never with a
// raw gRPC error. grpc-js keeps the channel and reconnects with backoff after the daemon
// restarts; calls made while it is unreachable fail fast with UNAVAILABLE instead of waiting.
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ClientOptions, type ServiceError } from '@grpc/grpc-js';
import { formatIA, type IA } from '../scion/isdas';
import { DaemonServiceClient } from '../proto/gen/daemon/v1/daemon';
import { comparePaths, type ControlPlanePath } from './combinator';
import { pathFromProto } from './daemon_convert';
import { DaemonError, fromServiceError, type DaemonErrorCode } from './daemon_error';
import type { AsInfo, InterfaceInfo, PathQuery, PathService } from './pathservice';

/** SCION's default daemon address. */
export const DEFAULT_DAEMON_ADDRESS = '127.0.0.1:30255';

export interface DaemonClientOptions {
  /** Deadline of every call in milliseconds; default 5000. */
  timeoutMs?: number;
  /** Default insecure, as SCION's daemon listens on loopback. */
  credentials?: ChannelCredentials;
  channelOptions?: Partial<ClientOptions>;
}

type Callback<Res> = (err: ServiceError | null, res: Res) => void;
type UnaryMethod<Req, Res> = (req: Req, md: Metadata, opts: { deadline: number }, cb: Callback<Res>) => unknown;

export class DaemonPathService implements PathService {
  private readonly client: DaemonServiceClient;
  private readonly timeoutMs: number;
  private readonly core = new Map<IA, boolean>();
  /** Interfaces of the local AS this client reported down; daemon.v1 itself carries no interface state. */
  private readonly reportedDown = new Set<number>();
  private localIA: IA | undefined;
  private closed = false;

  constructor(
    readonly address: string = DEFAULT_DAEMON_ADDRESS,
    opts: DaemonClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.client = new DaemonServiceClient(address, opts.credentials ?? grpcCredentials.createInsecure(), opts.channelOptions);
  }

  /**
   * Paths from src (the daemon's local AS) to dst, best first by comparePaths. Each path's
   * `segments` is empty and its geo has no country: daemon.v1 carries neither.
   */
  async paths(src: IA, dst: IA, opts: PathQuery = {}): Promise<ControlPlanePath[]> {
    const srcCore = await this.isCore(src);
    const res = await this.call(this.client.paths, { sourceIsdAs: src, destinationIsdAs: dst, refresh: opts.refresh ?? false, hidden: false }, 'Paths', 'UNKNOWN_AS');
    const found = res.paths.map((p, i) => {
      try {
        return pathFromProto(p, { src, dst, srcCore });
      } catch (e) {
        throw e instanceof DaemonError ? new DaemonError(e.code, `Paths ${formatIA(src)} > ${formatIA(dst)}, path ${i}: ${e.message}`) : e;
      }
    });
    found.sort(comparePaths);
    return opts.maxPaths === undefined ? found : found.slice(0, opts.maxPaths);
  }

  /** The daemon's answer for `ia`; like SCION's daemon, mtu is 0 (unknown) for any AS but the local one. */
  async asInfo(ia: IA): Promise<AsInfo> {
    const res = await this.call(this.client.as, { isdAs: ia }, 'AS', 'UNKNOWN_AS');
    if (ia !== 0n && res.isdAs !== ia) throw new DaemonError('BAD_RESPONSE', `AS: asked about ${formatIA(ia)}, answered about ${formatIA(res.isdAs)}`);
    this.core.set(res.isdAs, res.core);
    return { ia: res.isdAs, core: res.core, mtu: res.mtu };
  }

  /** The daemon's own AS (AS request for ISD-AS 0), asked once. */
  async local(): Promise<IA> {
    if (this.localIA === undefined) this.localIA = (await this.asInfo(0n)).ia;
    return this.localIA;
  }

  /**
   * The local AS's interfaces with their underlay addresses; other ASes reject with NOT_LOCAL_AS.
   * `up` is false only for interfaces this client reported down: daemon.v1 has no interface state.
   */
  async interfaces(ia: IA): Promise<Map<number, InterfaceInfo>> {
    const local = await this.local();
    if (ia !== local) throw new DaemonError('NOT_LOCAL_AS', `the daemon knows the interfaces of its own AS ${formatIA(local)} only, not of ${formatIA(ia)}`);
    const res = await this.call(this.client.interfaces, {}, 'Interfaces', 'UNKNOWN_AS');
    const out = new Map<number, InterfaceInfo>();
    for (const [id, intf] of [...res.interfaces].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (id < 1n || id > 0xffffn) throw new DaemonError('BAD_RESPONSE', `Interfaces: ID ${id} is not a 16-bit interface ID`);
      const ifid = Number(id);
      const underlay = intf.address?.address;
      out.set(ifid, { ifid, ...(underlay ? { underlay } : {}), up: !this.reportedDown.has(ifid) });
    }
    return out;
  }

  async notifyInterfaceDown(ia: IA, ifid: number): Promise<void> {
    if (!Number.isInteger(ifid) || ifid < 1 || ifid > 0xffff) throw new DaemonError('UNKNOWN_INTERFACE', `${ifid} is not a 16-bit interface ID`);
    const local = await this.local();
    await this.call(this.client.notifyInterfaceDown, { isdAs: ia, id: BigInt(ifid) }, 'NotifyInterfaceDown', 'UNKNOWN_INTERFACE');
    if (ia === local) this.reportedDown.add(ifid);
  }

  /** Closes the channel; later calls reject with CLOSED. */
  close(): void {
    this.closed = true;
    this.client.close();
  }

  private async isCore(ia: IA): Promise<boolean> {
    return this.core.get(ia) ?? (await this.asInfo(ia)).core;
  }

  private call<Req, Res>(method: UnaryMethod<Req, Res>, req: Req, name: string, notFound: DaemonErrorCode): Promise<Res> {
    if (this.closed) return Promise.reject(new DaemonError('CLOSED', `${name}: the client is closed`));
    return new Promise<Res>((resolve, reject) => {
      try {
        method.call(this.client, req, new Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) =>
          err ? reject(fromServiceError(err, name, notFound)) : resolve(res),
        );
      } catch (e) {
        // grpc-js throws synchronously only for a channel that is shut down or a request it cannot serialize.
        reject(new DaemonError(this.closed ? 'CLOSED' : 'DAEMON_ERROR', `${name}: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  }
}
