// The benchmark's HTTP client, run inside the lab's client namespace so that every path (lvsdeck,
// HAProxy, direct) is measured with the same tool:
//   dataplane-client.ts conns|reqs|bulk URL[,URL...] SECONDS CONCURRENCY
// conns: a new connection per request (Connection: close); reqs: keep-alive requests; bulk: GET
// /bytes/N repeatedly. Targets are used in turn. Prints one JSON line: {ops, bytes, seconds, errors}.
import http from 'node:http';

const [mode, targetList, secondsText, concText] = process.argv.slice(2);
const targets = (targetList ?? '').split(',').filter(Boolean);
const seconds = Math.min(Number(secondsText), 120), conc = Math.min(Number(concText), 256);
if (!['conns', 'reqs', 'bulk'].includes(mode ?? '') || !targets.length || !(seconds > 0) || !(conc > 0)) {
  process.stderr.write('usage: dataplane-client.ts conns|reqs|bulk URL[,URL...] SECONDS CONCURRENCY\n');
  process.exit(2);
}
const agent = new http.Agent({keepAlive: mode !== 'conns', maxSockets: conc});
const end = Date.now() + seconds * 1000;
let ops = 0, bytes = 0, errors = 0, next = 0;
const start = Date.now();

function one(): Promise<void> {
  return new Promise((resolve) => {
    const url = targets[next++ % targets.length]! + (mode === 'bulk' ? 'bytes/8000000' : '');
    const req = http.get(url, {agent, headers: mode === 'conns' ? {connection: 'close'} : {}}, (res) => {
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => { ops++; resolve(); });
      res.on('error', () => { errors++; resolve(); });
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => { errors++; setTimeout(resolve, 10); });
  });
}

async function worker(): Promise<void> {
  while (Date.now() < end) await one();
}

await Promise.all(Array.from({length: conc}, worker));
agent.destroy();
process.stdout.write(JSON.stringify({ops, bytes, seconds: (Date.now() - start) / 1000, errors}) + '\n');
