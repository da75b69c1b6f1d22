/**
 * @file `kilosecond web`: serves the page that trains on a folder of the user's images on their
 * own GPU (WebGPU), at http://localhost:PORT. WebGPU needs a secure context, which localhost is.
 *
 * It listens on the loopback address unless `--host` says otherwise, and serves the built page's
 * own files (dist/web/, written by `npm run build:web`) and nothing else from the disk: the list
 * of files is read once at start, and a request for any other path is a 404.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';

/** Where `npm run build` puts the page, beside the compiled CLI. */
export const builtPageDir = fileURLToPath(new URL('../web/', import.meta.url));

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/** The page's files by URL path ('/' is index.html), read into memory once: nothing else is reachable. */
function pageFiles(dir: string): Map<string, { body: Buffer; type: string }> {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    names = [];
  }
  const files = new Map(names.filter((f) => contentTypes[extname(f)]).map((f) => [
    `/${relative(dir, f).split('\\').join('/')}`, { body: readFileSync(f), type: contentTypes[extname(f)]! },
  ]));
  if (!files.has('/index.html')) throw new UserError(`${dir}: the web page is not built (no index.html); run npm run build:web in the kilosecond package`);
  files.set('/', files.get('/index.html')!);
  return files;
}

export async function startWebServer(o: { host?: string; port?: number; dir?: string } = {}): Promise<WebServer> {
  const files = pageFiles(o.dir ?? builtPageDir);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(path) : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new UserError(`port ${o.port} on ${host} is in use: choose another with --port, or --port 0 for any free one`)
      : err));
    server.listen(o.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  // WebGPU needs a secure context: http://localhost is one, http://127.0.0.1 may not be in every browser.
  const shown = host === '127.0.0.1' || host === '::1' || host === 'localhost' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function register(program: Command): void {
  program
    .command('web')
    .description('serve the page that trains on a folder of your images on your own GPU (WebGPU), in your browser')
    .option('--port <n>', 'port to listen on (0: any free one)', (v) => Number(v), 8080)
    .option('--host <address>', 'address to listen on; the default serves this machine only', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UserError(`--port ${o.port}: a port is a whole number from 0 to 65535`);
      const server = await startWebServer({ host: o.host, port: o.port });
      process.stdout.write(`kilosecond web: open ${server.url} in a browser with WebGPU (Chrome, Edge; Firefox and Safari where enabled). Ctrl-C stops.\n`);
      if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
        process.stdout.write(`listening on ${o.host}: other machines can open the page; WebGPU there needs https or a browser flag (it is a secure context only on localhost)\n`);
      }
      await new Promise<void>((resolve) => process.once('SIGINT', () => void server.close().then(resolve)));
    });
}
