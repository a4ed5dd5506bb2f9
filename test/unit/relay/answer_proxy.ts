// A TCP proxy in front of a relay that can stop passing the relay's answers while it still
// passes what clients send: a relay that stores batches whose acknowledgements never arrive.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy to a port that passes the answers (relay to client) only while not muted. */
export class AnswerProxy {
  muted = false;
  readonly port: Promise<number>;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(upstreamPort: number) {
    this.server = createServer((client) => {
      const up = connect(upstreamPort, '127.0.0.1');
      for (const s of [client, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (d) => up.write(d));
      up.on('data', (d) => this.muted || client.write(d));
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    });
    this.port = new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
