// A traffic peer run inside a pod namespace (`ip netns exec NS node peer.js MODE ...`):
// UDP and TCP echo servers and clients that print one JSON line with what they saw.
// Every mode stops by itself: servers after their lifetime, clients after a timeout.
'use strict';
const dgram = require('node:dgram');
const net = require('node:net');

const [mode, ...args] = process.argv.slice(2);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

function udpEcho(port, lifetimeMs) {
  const s = dgram.createSocket('udp4');
  let echoed = 0;
  s.on('message', (msg, from) => {
    echoed++;
    s.send(msg, from.port, from.address);
  });
  s.bind(port, () => out({ ready: true }));
  setTimeout(() => {
    out({ echoed });
    process.exit(0);
  }, lifetimeMs);
}

function tcpEcho(port, lifetimeMs) {
  let bytes = 0;
  const srv = net.createServer((c) => {
    c.on('data', (d) => {
      bytes += d.length;
      c.write(d);
    });
    c.on('error', () => c.destroy());
  });
  srv.listen(port, () => out({ ready: true }));
  setTimeout(() => {
    out({ echoed: bytes });
    process.exit(0);
  }, lifetimeMs);
}

function udpSend(host, port, count, size, srcPort, timeoutMs) {
  const s = dgram.createSocket('udp4');
  let received = 0;
  const finish = () => {
    out({ sent: count, received });
    process.exit(0);
  };
  s.on('message', () => {
    received++;
    if (received === count) finish();
  });
  s.bind(srcPort, () => {
    const payload = Buffer.alloc(size, 0x5a);
    let i = 0;
    // A short gap between datagrams keeps socket buffers from overflowing.
    const tick = setInterval(() => {
      for (let k = 0; k < 10 && i < count; k++, i++) s.send(payload, port, host);
      if (i >= count) clearInterval(tick);
    }, 1);
  });
  setTimeout(finish, timeoutMs);
}

// Many flows from one socket: `rounds` datagrams to each of `flows` destination ports,
// one round after another, so every flow stays active throughout. Paced like udpSend.
function udpSpray(host, basePort, flows, rounds, size, srcPort) {
  const s = dgram.createSocket('udp4');
  const payload = Buffer.alloc(size, 0x5a);
  const total = flows * rounds;
  let queued = 0;
  let sent = 0;
  let failed = 0;
  const done = () => {
    if (sent + failed === total) {
      out({ sent, failed });
      process.exit(0);
    }
  };
  s.bind(srcPort, () => {
    const tick = setInterval(() => {
      for (let k = 0; k < 10 && queued < total; k++, queued++) {
        s.send(payload, basePort + (queued % flows), host, (err) => {
          if (err) failed++;
          else sent++;
          done();
        });
      }
      if (queued >= total) clearInterval(tick);
    }, 1);
  });
}

// Like udpSpray, but paced to a rate: every tick sends what the clock says is due (at most
// 200 datagrams a tick, so a late tick cannot flood the socket), so rounds keep to the
// wall clock even when timers fire late, and every flow gets a datagram every
// flows / rate seconds.
function udpPaced(host, basePort, flows, rounds, size, srcPort, perSecond) {
  const s = dgram.createSocket('udp4');
  const payload = Buffer.alloc(size, 0x5a);
  const total = flows * rounds;
  let queued = 0;
  let sent = 0;
  let failed = 0;
  const done = () => {
    if (sent + failed === total) {
      out({ sent, failed });
      process.exit(0);
    }
  };
  s.bind(srcPort, () => {
    const start = Date.now();
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - start) * perSecond) / 1000));
      for (let k = 0; k < 200 && queued < due; k++, queued++) {
        s.send(payload, basePort + (queued % flows), host, (err) => {
          if (err) failed++;
          else sent++;
          done();
        });
      }
      if (queued >= total) clearInterval(tick);
    }, 1);
  });
}

function tcpSend(host, port, bytes, timeoutMs) {
  let received = 0;
  const c = net.connect(port, host, () => c.end(Buffer.alloc(bytes, 0x42)));
  const finish = (error) => {
    out({ sent: bytes, received, ...(error ? { error } : {}) });
    process.exit(0);
  };
  c.on('data', (d) => {
    received += d.length;
    if (received >= bytes) finish();
  });
  c.on('error', (e) => finish(e.code || e.message));
  setTimeout(() => finish('timeout'), timeoutMs);
}

const n = (i) => Number(args[i]);
switch (mode) {
  case 'udp-echo':
    udpEcho(n(0), n(1));
    break;
  case 'tcp-echo':
    tcpEcho(n(0), n(1));
    break;
  case 'udp-send':
    udpSend(args[0], n(1), n(2), n(3), n(4), n(5));
    break;
  case 'udp-spray':
    udpSpray(args[0], n(1), n(2), n(3), n(4), n(5));
    break;
  case 'udp-paced':
    udpPaced(args[0], n(1), n(2), n(3), n(4), n(5), n(6));
    break;
  case 'tcp-send':
    tcpSend(args[0], n(1), n(2), n(3));
    break;
  default:
    process.stderr.write(`unknown mode ${mode}\n`);
    process.exit(2);
}
