// The SCION daemon's gRPC API (daemon.v1) served in-process from a PathService, as the daemon
// of one local AS: the embedded control plane becomes reachable the way a real deployment
// reaches SCION, and DaemonPathService is tested against it. It answers like SCION's daemon:
// Paths only from the local AS (source 0 means local), AS with the MTU only for the local AS,
// Interfaces for the local AS's interfaces that have an underlay address. Services,
// PortRange and DRKey are left to grpc-js, which answers UNIMPLEMENTED.
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { formatIA, isWildcard, type IA } from '../scion/isdas';
import {
  DaemonServiceService,
  type ASRequest,
  type ASResponse,
  type DaemonServiceServer,
  type InterfacesRequest,
  type InterfacesResponse,
  type Interface as InterfacePB,
  type NotifyInterfaceDownRequest,
  type NotifyInterfaceDownResponse,
  type PathsRequest,
  type PathsResponse,
} from '../proto/gen/daemon/v1/daemon';
import { pathToProto } from './daemon_convert';
import { PathServiceError, type PathService } from './pathservice';

export interface DaemonServerOptions {
  service: PathService;
  /** The AS this daemon serves. */
  localIA: IA;
  /** host:port to listen on; default 127.0.0.1:0 (a free loopback port). */
  address?: string;
  /** Default insecure, as SCION's daemon listens on loopback. */
  credentials?: ServerCredentials;
  /** How long close() lets calls in flight finish before cutting them off; default 1000 ms. */
  graceMs?: number;
}

export interface DaemonServerHandle {
  port: number;
  close(): Promise<void>;
}

/** A request the daemon refuses; becomes INVALID_ARGUMENT. */
class BadRequest extends Error {}

function grpcStatusOf(err: unknown): { code: status; details: string } {
  if (err instanceof BadRequest) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof PathServiceError) return { code: status.NOT_FOUND, details: err.message };
  return { code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

/** A unary handler over an async function; every failure becomes a gRPC status, never a crash. */
function unary<Req, Res>(fn: (req: Req) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, done: sendUnaryData<Res>): void => {
    fn(call.request).then(
      (res) => done(null, res),
      (err: unknown) => done(grpcStatusOf(err)),
    );
  };
}

function handlers(service: PathService, localIA: IA): Pick<DaemonServiceServer, 'paths' | 'as' | 'interfaces' | 'notifyInterfaceDown'> {
  return {
    paths: unary(async (req: PathsRequest): Promise<PathsResponse> => {
      const src = req.sourceIsdAs === 0n ? localIA : req.sourceIsdAs;
      if (src !== localIA) throw new BadRequest(`source ${formatIA(src)} is not the local AS ${formatIA(localIA)}`);
      if (isWildcard(req.destinationIsdAs)) throw new BadRequest(`destination ${formatIA(req.destinationIsdAs)} is a wildcard`);
      const paths = await service.paths(src, req.destinationIsdAs, { refresh: req.refresh });
      return { paths: paths.map(pathToProto) };
    }),
    as: unary(async (req: ASRequest): Promise<ASResponse> => {
      const ia = req.isdAs === 0n ? localIA : req.isdAs;
      const info = await service.asInfo(ia);
      // SCION's daemon knows the MTU of its own AS only.
      return { isdAs: ia, core: info.core, mtu: ia === localIA ? info.mtu : 0 };
    }),
    interfaces: unary(async (_req: InterfacesRequest): Promise<InterfacesResponse> => {
      const out = new Map<bigint, InterfacePB>();
      for (const [ifid, intf] of await service.interfaces(localIA)) {
        if (intf.underlay) out.set(BigInt(ifid), { address: { address: intf.underlay } });
      }
      return { interfaces: out };
    }),
    notifyInterfaceDown: unary(async (req: NotifyInterfaceDownRequest): Promise<NotifyInterfaceDownResponse> => {
      if (req.id < 1n || req.id > 0xffffn) throw new BadRequest(`interface ID ${req.id} is not a 16-bit interface ID`);
      await service.notifyInterfaceDown(req.isdAs, Number(req.id));
      return {};
    }),
  };
}

/** Starts the server; resolves once it listens. */
export async function startDaemonServer(opts: DaemonServerOptions): Promise<DaemonServerHandle> {
  const server = new Server();
  server.addService(DaemonServiceService, handlers(opts.service, opts.localIA));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.address ?? '127.0.0.1:0', opts.credentials ?? ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const graceMs = opts.graceMs ?? 1000;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      }),
  };
}
