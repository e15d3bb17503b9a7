// The metrics listener: GET /metrics (Prometheus text format), GET /api/v1/snapshot and
// GET /api/v1/conns?filter=...&limit=... (JSON, schemas in docs/metrics.md). Read-only: anything but
// GET/HEAD is refused. Loopback unless the caller allows other addresses explicitly; every
// request is bounded (URL length, connection count, timeouts, rows returned).
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {isIP} from 'node:net';
import {createMetricsRegistry} from './registry.js';
import type {MetricsSource} from './source.js';

export const SNAPSHOT_SCHEMA = 'lvsdeck.snapshot/1';
export const CONNS_SCHEMA = 'lvsdeck.conns/1';
export const CONNS_DEFAULT_LIMIT = 100;
export const CONNS_MAX_LIMIT = 10000;
const MAX_URL = 2048;
const MAX_FILTER = 256;

export class MetricsListenError extends Error {}

export interface MetricsListen {
  host: string;
  port: number;
}

/** `PORT`, `ADDR:PORT` or `[IPv6]:PORT`; the address defaults to 127.0.0.1. */
export function parseMetricsListen(text: string): MetricsListen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]:|([^:\[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new MetricsListenError(`--metrics wants PORT, ADDR:PORT or [ADDR]:PORT, got '${text}'`);
  const host = m[1] ?? m[2] ?? '127.0.0.1';
  if (host !== 'localhost' && isIP(host) === 0) throw new MetricsListenError(`--metrics: '${host}' is not an IP address`);
  return {host, port};
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\./.test(host) || host === '::1' || /^::ffff:127\./i.test(host);
}

export interface MetricsServer {
  readonly server: Server;
  /** The address actually bound (port 0 picks a free one). */
  readonly address: MetricsListen;
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store'});
  res.end(head ? undefined : body);
}

function json(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, head);
}

/**
 * Serve metrics and the JSON API for `source` on `listen`. A non-loopback address needs
 * `allowRemote` (the endpoint has no authentication). Resolves once listening.
 */
export async function startMetricsServer(source: MetricsSource, listen: MetricsListen, opts: {allowRemote?: boolean} = {}): Promise<MetricsServer> {
  if (!isLoopback(listen.host) && !opts.allowRemote) {
    throw new MetricsListenError(`--metrics ${listen.host}: not a loopback address; add --metrics-public to serve it there`);
  }
  const metrics = createMetricsRegistry();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, {error: 'read-only: only GET and HEAD'}, false);
    }
    if ((req.url ?? '').length > MAX_URL) return json(res, 414, {error: `URL longer than ${MAX_URL} bytes`}, head);
    const url = new URL(req.url ?? '/', 'http://metrics');
    switch (url.pathname) {
      case '/metrics':
        return send(res, 200, metrics.registry.contentType, await metrics.render(source.view()), head);
      case '/api/v1/snapshot':
        return json(res, 200, {schema: SNAPSHOT_SCHEMA, ...source.view()}, head);
      case '/api/v1/conns': {
        const filter = url.searchParams.get('filter') ?? '';
        const limitText = url.searchParams.get('limit');
        if (filter.length > MAX_FILTER) return json(res, 400, {error: `filter longer than ${MAX_FILTER} characters`}, head);
        let limit = CONNS_DEFAULT_LIMIT;
        if (limitText !== null) {
          if (!/^\d{1,6}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > CONNS_MAX_LIMIT) {
            return json(res, 400, {error: `limit wants a whole number 1..${CONNS_MAX_LIMIT}, got '${limitText}'`}, head);
          }
          limit = Number(limitText);
        }
        for (const k of url.searchParams.keys()) {
          if (k !== 'filter' && k !== 'limit') return json(res, 400, {error: `unknown parameter '${k}' (filter, limit)`}, head);
        }
        const r = source.conns({filter: filter || undefined, limit});
        return json(res, 200, {schema: CONNS_SCHEMA, total: r.total, returned: r.rows.length, limit, conns: r.rows}, head);
      }
      case '/':
        return send(res, 200, 'text/plain; charset=utf-8', 'lvsdeck metrics: /metrics, /api/v1/snapshot, /api/v1/conns?filter=...&limit=...\n', head);
      default:
        return json(res, 404, {error: `no such endpoint: ${url.pathname} (/metrics, /api/v1/snapshot, /api/v1/conns)`}, head);
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) json(res, 500, {error: err.message}, false);
      else res.destroy();
    });
  });
  server.maxConnections = 64;
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new MetricsListenError(`--metrics ${listen.host}:${listen.port}: ${err.message}`)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  server.unref();
  const a = server.address();
  const address = a && typeof a === 'object' ? {host: a.address, port: a.port} : listen;
  const hostText = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    server, address, url: `http://${hostText}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
