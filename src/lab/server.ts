// A lab real server: HTTP on port 80 and a UDP echo on port 7, both IPv4 and IPv6, answering with
// its own name so that a client sees which server the director chose. Run inside a namespace by
// `lvsdeck lab up`; `GET /bytes/N` returns N bytes (bulk transfers, bounded to 1 GiB).
import {createSocket} from 'node:dgram';
import {writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {HTTP_PORT, UDP_ECHO_PORT} from './topology.js';

const MAX_BULK = 1 << 30;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

export function startServer(name: string, readyFile?: string): void {
  const http = createServer((req, res) => {
    const peer = `${req.socket.remoteAddress?.replace(/^::ffff:/, '')}:${req.socket.remotePort}`;
    const bulk = /^\/bytes\/(\d{1,10})$/.exec(req.url ?? '');
    if (bulk) {
      let left = Math.min(Number(bulk[1]), MAX_BULK);
      res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(left)});
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, {'content-type': 'text/plain', 'connection': req.headers.connection === 'keep-alive' ? 'keep-alive' : 'close'});
    res.end(`${name} ${peer}\n`);
  });
  http.keepAliveTimeout = 5000;
  http.listen({port: HTTP_PORT, host: '::', ipv6Only: false});
  const udp = createSocket({type: 'udp6', ipv6Only: false});
  udp.on('message', (msg, rinfo) => {
    udp.send(Buffer.concat([Buffer.from(`${name} `), msg.subarray(0, 1200)]), rinfo.port, rinfo.address);
  });
  udp.bind(UDP_ECHO_PORT, '::');
  let ready = 0;
  const onReady = (): void => {
    if (++ready === 2 && readyFile) writeFileSync(readyFile, `${process.pid}\n`);
  };
  http.on('listening', onReady);
  udp.on('listening', onReady);
  const stop = (): void => {
    http.close();
    udp.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// `node --import tsx src/lab/server.ts NAME [READY_FILE]`
if (process.argv[1] && /lab\/server\.(ts|js)$/.test(process.argv[1])) {
  const [name, readyFile] = process.argv.slice(2);
  if (!name) {
    process.stderr.write('usage: server.ts NAME [READY_FILE]\n');
    process.exit(2);
  }
  startServer(name, readyFile);
}
