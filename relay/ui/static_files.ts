// The browser app's files, from the bundle `make build` writes to dist/web. Only files inside
// that directory are served (no "..", no encoded separators, no symlink out of it), each with
// its content type, the page's Content-Security-Policy and nosniff; when the bundle is not
// built, a page that says so (503) instead of a bare 404.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';

export const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

const STATIC_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The bundle changes with every build under the same names.
  'cache-control': 'no-cache',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

function namesCillion(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'cillion';
}

/**
 * The package's root (its package.json names cillion), from this file in the sources or under
 * dist/. tsc copies package.json into dist/ (relay/server.ts imports it), so a dist/ whose
 * parent is the package is not the root.
 */
export function packageRoot(from = __dirname): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (namesCillion(dir) && !(basename(dir) === 'dist' && namesCillion(dirname(dir)))) return dir;
  }
  throw new Error(`no cillion package.json above ${from}`);
}

export function defaultStaticDir(): string {
  return join(packageRoot(), 'dist', 'web');
}

function plain(res: ServerResponse, code: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { ...STATIC_HEADERS, 'content-type': type });
  res.end(text);
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cillion web UI not built</title></head>
<body><h1>The web UI is not built</h1>
<p>This relay serves the browser app from <code>dist/web</code>, which is missing. Run <code>make build</code> and reload.</p>
<p>The API under <code>/api/v1</code> works without it.</p></body></html>
`;

/**
 * The file under `root` a URL path names, or undefined when it names nothing servable there.
 * "/" is index.html; a path with "..", a backslash, a NUL or an encoded slash names nothing.
 */
export function staticPath(root: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (/[\\\0]/.test(path) || /%2f|%5c/i.test(urlPath) || !path.startsWith('/')) return undefined;
  if (path.split('/').some((seg) => seg === '..' || (seg.startsWith('.') && seg !== ''))) return undefined;
  const rel = path === '/' ? 'index.html' : path.slice(1);
  const full = resolve(root, rel);
  return full.startsWith(root + sep) ? full : undefined;
}

export async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, urlPath: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    plain(res, 405, 'method not allowed\n');
    return;
  }
  const realRoot = await realpath(root).catch(() => undefined);
  if (!realRoot || !existsSync(join(realRoot, 'index.html'))) {
    plain(res, 503, NOT_BUILT, 'text/html; charset=utf-8');
    return;
  }
  const file = staticPath(realRoot, urlPath);
  // The file itself must lie inside too: a symlink in the bundle may not lead out of it.
  const real = file ? await realpath(file).catch(() => undefined) : undefined;
  const st = real && real.startsWith(realRoot + sep) ? await stat(real).catch(() => undefined) : undefined;
  if (!real || !st?.isFile()) {
    plain(res, 404, 'not found\n');
    return;
  }
  res.writeHead(200, { ...STATIC_HEADERS, 'content-type': TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream', 'content-length': st.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(real).on('error', () => res.destroy()).pipe(res);
}
