// One GET of the relay's web API over TLS, the server checked against `ca` and, when given,
// a client certificate shown: for scripts/ui-screenshots.ts and the demo's browser test, which
// check the certificates with it before a browser starts.
import { request } from 'node:https';

export function httpsGet(url: string, o: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...o, headers: { 'x-cillion-ui': '1' }, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}
