// A pod's traffic in the demo, run inside the pod's namespace: listens on its app's UDP
// port and, once the demo writes "send" on its standard input, sends at a steady modest rate
// to the pods its policies point at, one socket per flow. Standalone (Node built-ins only)
// so every pod starts it quickly. Prints one JSON line when listening and one every 10 s
// with its counts; ends on SIGINT, SIGTERM or when the demo that started it goes away (its
// standard input closes).
import { createSocket, type Socket } from 'node:dgram';

export interface PeerSend {
  dst: string;
  port: number;
  /** One flow per source port. */
  srcPorts: number[];
  /** Packets per second of each flow. */
  pps: number;
  size: number;
}

export interface PeerConfig {
  listen: number[];
  send: PeerSend[];
}

function main(config: PeerConfig): void {
  let sent = 0;
  let received = 0;
  let errors = 0;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const out = (o: object): void => void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...o })}\n`);
  let pending = config.listen.length;
  const listening = (): void => {
    if (--pending <= 0) out({ listening: config.listen });
  };
  for (const port of config.listen) {
    const s = createSocket('udp4');
    s.on('message', () => void received++);
    s.on('error', (e) => out({ error: e.message, port }));
    s.bind(port, listening);
    sockets.push(s);
  }
  if (config.listen.length === 0) listening();
  const startSending = (): void => {
    for (const f of config.send) {
      const payload = Buffer.alloc(f.size, 0x5a);
      for (const srcPort of f.srcPorts) {
        const s = createSocket('udp4');
        s.on('error', () => void errors++);
        s.bind(srcPort, () => {
          timers.push(
            setInterval(() => {
              s.send(payload, f.port, f.dst, (e) => (e ? errors++ : sent++));
            }, Math.max(1, Math.round(1000 / f.pps))),
          );
        });
        sockets.push(s);
      }
    }
  };
  // Sending starts on the demo's word, once every pod listens: a datagram to a port nobody
  // has bound yet would only bring back an ICMP error.
  let buffered = '';
  const onInput = (d: Buffer): void => {
    buffered += d.toString();
    if (!buffered.includes('\n')) return;
    process.stdin.off('data', onInput);
    if (buffered.startsWith('send')) startSending();
  };
  process.stdin.on('data', onInput);
  timers.push(setInterval(() => out({ sent, received, errors }), 10000));
  const stop = (): void => {
    out({ sent, received, errors, stopped: true });
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

if (require.main === module) main(JSON.parse(process.argv[2] ?? '{}') as PeerConfig);
