// Soak of `lvsdeck serve` in wall-clock time: the demo under a SYN flood (defenses armed), the UI
// published at 10 Hz, two ssh sessions attached (real ssh2 clients in a child process, switching
// views and moving the selection now and then), for --minutes (default 10). Every second it
// samples the RSS, the heap and the event-loop delay. Goal: RSS flat after the warm-up (the first
// fifth of the run), no event-loop stall over 200 ms.
//
//   node --expose-gc --import tsx bench/soak-ssh.ts [--minutes N] [--rate SYN/s] [--no-record]
//   node --expose-gc --import tsx bench/soak-ssh.ts --seconds 20     # a dry run: the same soak, short, never recorded
//
// Baselines are measured in the same run: the event-loop delay of this process during an idle
// phase before the flood and the sessions start, and the RSS at the end of the warm-up. The
// figures go to bench/soak-ssh-results.json and BENCHMARKS.md's "Soak" section (bench/run.ts
// copies the recorded section when it rewrites the file).
import {fork} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import os from 'node:os';
import {join} from 'node:path';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import ssh2 from 'ssh2';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const numArg = (name: string, dflt: number, lo: number, hi: number): number => {
  const v = arg(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(n >= lo && n <= hi)) {
    process.stderr.write(`soak-ssh: --${name} wants a number ${lo}..${hi}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
};

const RESULTS = new URL('./soak-ssh-results.json', import.meta.url);
const STALL_MS = 200;

// ------------------------------------------------------------------ client mode (child process)

/** One ssh session: a shell with a pty, reading everything, pressing a few keys every 5 s. */
async function clientMode(port: number, keyFile: string, cols: number, rows: number): Promise<void> {
  const {Client} = ssh2;
  const c = new Client();
  let bytes = 0;
  c.on('ready', () => {
    c.shell({term: 'xterm-256color', cols, rows}, (err, ch) => {
      if (err) throw err;
      ch.on('data', (d: Buffer) => { bytes += d.length; });
      const views = ['1', '2', '3', '4', '5', '6', '7', '1'];
      let i = 0;
      setInterval(() => { ch.write(views[i++ % views.length]!); ch.write('jjk'); }, 5000);
      setInterval(() => process.send!({bytes}), 1000);
      ch.on('close', () => process.exit(0));
    });
  });
  c.on('error', (e) => { process.stderr.write(`soak client: ${e.message}\n`); process.exit(1); });
  c.connect({host: '127.0.0.1', port, username: 'soak', privateKey: readFileSync(keyFile, 'utf8'), hostVerifier: () => true});
}

// ------------------------------------------------------------------ the soak

/** One row: value, the baseline measured in this run, value ÷ baseline, and the goal met or missed. */
export interface SoakFigure {
  figure: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  target?: string;
}

interface Sample {
  t: number;
  rssMiB: number;
  heapMiB: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

export interface SoakResult {
  date: string;
  machine: string;
  minutes: number;
  rate: number;
  warmupS: number;
  figures: SoakFigure[];
}

function slopePerMin(xs: {t: number; v: number}[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mt = xs.reduce((a, x) => a + x.t, 0) / n, mv = xs.reduce((a, x) => a + x.v, 0) / n;
  let num = 0, den = 0;
  for (const x of xs) { num += (x.t - mt) * (x.v - mv); den += (x.t - mt) ** 2; }
  return den ? (num / den) * 60 : 0;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const metOrMissed = (ok: boolean, goal: string) => `${goal}: ${ok ? 'met' : 'missed'}`;

export async function runSshSoak(minutes: number, rate: number, log: (s: string) => void): Promise<SoakResult> {
  // Ink and React must see the server's environment before they load (serve does the same)
  const {prepareServerEnv} = await import('../src/cli/serve-cmd.js');
  prepareServerEnv(process.env, false);
  const {buildDemo} = await import('../src/demo/default-config.js');
  const {ensureHostKey, generateEd25519} = await import('../src/ssh/host-key.js');
  const {DeckHost} = await import('../src/ssh/host.js');
  const {SshServer} = await import('../src/ssh/server.js');

  const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-soak-'));
  const admin = generateEd25519('admin');
  const reader = generateEd25519('reader');
  const pub = (k: {public: string}) => k.public.split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'ak'), `environment="LVSDECK_ROLE=admin" ${pub(admin)} admin\n${pub(reader)} reader\n`);
  writeFileSync(join(dir, 'admin'), admin.private, {mode: 0o600});
  writeFileSync(join(dir, 'reader'), reader.private, {mode: 0o600});

  const delay = monitorEventLoopDelay({resolution: 10});
  delay.enable();
  // baseline: this process, idle, for 10 s
  const idleMax: number[] = [];
  for (let i = 0; i < 10; i++) {
    delay.reset();
    await new Promise((r) => setTimeout(r, 1000));
    idleMax.push(delay.max / 1e6);
  }
  const idleMaxMs = Math.max(...idleMax);

  const sim = buildDemo(5, {totalBytes: 256 * 2 ** 20, usedBytes: 200 * 2 ** 20});
  sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate});
  const host = new DeckHost({sim, fps: 10, speed: 1});
  const server = new SshServer(host, {
    host: '127.0.0.1', port: 0, hostKey: ensureHostKey(join(dir, 'host_key')).pem, authorizedKeysPath: join(dir, 'ak'),
    maxSessions: 4, maxPerKey: 2, maxConns: 8, authTries: 3, loginGraceMs: 20_000, exec: true,
    log: () => {}, event: () => {}, limiter: {burst: 10, refillPerSec: 1 / 30, cooldownMs: 60_000},
  });
  const {port} = await server.listen();
  host.start();
  const clientBytes = [0, 0];
  const children = [['admin', 140, 45], ['reader', 100, 30]].map(([who, cols, rows], i) => {
    const child = fork(new URL(import.meta.url).pathname, ['--client', String(port), join(dir, who as string), String(cols), String(rows)],
      {execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc']});
    child.on('message', (m: {bytes: number}) => { clientBytes[i] = m.bytes; });
    return child;
  });
  const t0 = performance.now();
  const virt0 = sim.now;
  while (host.sessions.length < 2) {
    if (performance.now() - t0 > 30_000) throw new Error('the two ssh sessions did not attach within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`soak-ssh: 2 sessions attached on port ${port}; ${Math.round(minutes * 60)} s of ${rate} SYN/s`);

  const samples: Sample[] = [];
  const start = performance.now();
  const ticks0 = host.perf.ticks;
  const total = Math.round(minutes * 60);
  for (let s = 1; s <= total; s++) {
    delay.reset();
    await new Promise((r) => setTimeout(r, Math.max(0, start + s * 1000 - performance.now())));
    const m = process.memoryUsage();
    samples.push({t: s, rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20, loopMaxMs: delay.max / 1e6, loopP99Ms: delay.percentile(99) / 1e6});
    if (s % 60 === 0) {
      const last = samples.slice(-60);
      log(`soak-ssh: ${s / 60} min: RSS ${mean(last.map((x) => x.rssMiB)).toFixed(0)} MiB, heap ${mean(last.map((x) => x.heapMiB)).toFixed(0)} MiB, loop max ${Math.max(...last.map((x) => x.loopMaxMs)).toFixed(0)} ms`);
    }
  }
  const wall = (performance.now() - start) / 1000;
  const ticks = host.perf.ticks - ticks0;
  const virt = (sim.now - virt0) / 1000;
  const sessionsAtEnd = host.sessions.length;
  for (const c of children) c.kill();
  host.stop();
  await server.close();
  delay.disable();
  rmSync(dir, {recursive: true, force: true});

  const warmupS = Math.round(total / 5);
  const after = samples.filter((x) => x.t > warmupS);
  // a minute at each end (less in a short run: a third of what follows the warm-up)
  const span = Math.max(1, Math.min(60, Math.floor(after.length / 3)));
  const firstMin = after.slice(0, span).map((x) => x.rssMiB), lastMin = after.slice(-span).map((x) => x.rssMiB);
  const rssWarm = mean(firstMin), rssEnd = mean(lastMin);
  const slope = slopePerMin(after.map((x) => ({t: x.t, v: x.rssMiB})));
  const heapSlope = slopePerMin(after.map((x) => ({t: x.t, v: x.heapMiB})));
  const maxAfter = Math.max(...after.map((x) => x.loopMaxMs));
  const maxAll = Math.max(...samples.map((x) => x.loopMaxMs));
  const stalls = samples.filter((x) => x.loopMaxMs > STALL_MS).length;
  const p99 = quantile(samples.map((x) => x.loopP99Ms), 0.5);
  const growth = rssEnd / rssWarm;
  const figures: SoakFigure[] = [
    {figure: 'soak-ssh: RSS, last minute mean vs first minute after warm-up', value: rssEnd, unit: 'MiB', baseline: rssWarm, ratio: growth,
      target: metOrMissed(growth <= 1.1, 'flat (ratio <= 1.10)')},
    {figure: 'soak-ssh: RSS trend after warm-up (least squares)', value: slope, unit: 'MiB/min', baseline: rssWarm, ratio: slope / rssWarm,
      target: metOrMissed(slope * (total - warmupS) / 60 <= 0.1 * rssWarm, 'under 10% of the warm RSS over the run')},
    {figure: 'soak-ssh: heap trend after warm-up (least squares)', value: heapSlope, unit: 'MiB/min', baseline: mean(after.slice(0, span).map((x) => x.heapMiB)),
      ratio: heapSlope / Math.max(1e-9, mean(after.slice(0, span).map((x) => x.heapMiB)))},
    {figure: 'soak-ssh: worst event-loop delay after warm-up (1 s samples)', value: maxAfter, unit: 'ms', baseline: idleMaxMs, ratio: maxAfter / idleMaxMs,
      target: metOrMissed(maxAfter <= STALL_MS, `<= ${STALL_MS} ms`)},
    {figure: 'soak-ssh: worst event-loop delay over the whole run', value: maxAll, unit: 'ms', baseline: idleMaxMs, ratio: maxAll / idleMaxMs,
      target: metOrMissed(maxAll <= STALL_MS, `<= ${STALL_MS} ms`)},
    {figure: `soak-ssh: seconds with a stall over ${STALL_MS} ms`, value: stalls, unit: 's', baseline: samples.length, ratio: stalls / samples.length,
      target: metOrMissed(stalls === 0, 'none')},
    {figure: 'soak-ssh: event-loop delay p99 (median of the 1 s samples)', value: p99, unit: 'ms', baseline: quantile(idleMax, 0.5), ratio: p99 / Math.max(1e-9, quantile(idleMax, 0.5))},
    {figure: 'soak-ssh: UI publishes per second (both sessions)', value: ticks / wall, unit: '/s', baseline: 10, ratio: ticks / wall / 10, target: '10 Hz'},
    {figure: 'soak-ssh: bytes per second to each ssh client (mean of 2)', value: (clientBytes[0]! + clientBytes[1]!) / 2 / wall, unit: 'B/s',
      baseline: 1, ratio: (clientBytes[0]! + clientBytes[1]!) / 2 / wall},
    {figure: 'soak-ssh: virtual seconds per wall second (speed 1)', value: virt / wall, unit: 'x', baseline: 1, ratio: virt / wall,
      target: metOrMissed(virt / wall >= 0.95, 'keeps up (>= 0.95)')},
    {figure: 'soak-ssh: sessions still attached at the end', value: sessionsAtEnd, unit: 'sessions', baseline: 2, ratio: sessionsAtEnd / 2,
      target: metOrMissed(sessionsAtEnd === 2, '2')},
  ];
  return {
    date: new Date().toISOString().slice(0, 10), machine: `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`,
    minutes, rate, warmupS, figures,
  };
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

/** BENCHMARKS.md's soak section from the recorded result (null: none recorded). */
export function recordedSoakSection(): string | null {
  let r: SoakResult;
  try {
    r = JSON.parse(readFileSync(RESULTS, 'utf8')) as SoakResult;
  } catch {
    return null;
  }
  const lines = [
    '## Soak: lvsdeck serve under a flood, UI at 10 Hz, 2 ssh sessions (bench/soak-ssh.ts)',
    '',
    `Recorded by \`node --expose-gc --import tsx bench/soak-ssh.ts --minutes ${r.minutes}\` on ${r.date}; machine: ${r.machine}. ` +
      `${r.rate} SYN/s on the demo (256 MiB, defenses armed), wall-clock time; the first ${r.warmupS} s are warm-up. ` +
      'Baselines from the same run: the event-loop delay of the idle process before the flood, the RSS of the first minute after warm-up.',
    '',
    '| figure | value | unit | baseline | ratio | target |',
    '|---|---|---|---|---|---|',
  ];
  for (const f of r.figures) lines.push(`| ${f.figure} | ${fmt(f.value)} | ${f.unit} | ${fmt(f.baseline)} | ${f.ratio.toFixed(2)} | ${f.target ?? ''} |`);
  return `${lines.join('\n')}\n`;
}

/** Replace (or add) the soak section of BENCHMARKS.md, leaving the rest as it is. */
function updateBenchmarks(section: string): void {
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('## Soak: lvsdeck serve');
  let out: string;
  if (start < 0) {
    const fuzz = text.indexOf('## Fuzzing');
    out = fuzz < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, fuzz)}${section}\n${text.slice(fuzz)}`;
  } else {
    const next = text.indexOf('\n## ', start + 3);
    out = `${text.slice(0, start)}${section}${next < 0 ? '' : text.slice(next)}`;
  }
  writeFileSync(file, out);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--client')) {
    const i = process.argv.indexOf('--client');
    const [port, key, cols, rows] = process.argv.slice(i + 1);
    await clientMode(Number(port), key!, Number(cols), Number(rows));
  } else {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const dry = arg('seconds') !== undefined;
    const minutes = dry ? numArg('seconds', 20, 5, 3600) / 60 : numArg('minutes', 10, 1, 600);
    const r = await runSshSoak(minutes, numArg('rate', 10_000, 0, 1_000_000), log);
    for (const f of r.figures) log(`${f.figure}: ${fmt(f.value)} ${f.unit} (baseline ${fmt(f.baseline)}, ratio ${f.ratio.toFixed(2)})${f.target ? ` ${f.target}` : ''}`);
    if (dry) log('soak-ssh: a dry run (--seconds): not recorded');
    else if (!process.argv.includes('--no-record')) {
      writeFileSync(RESULTS, `${JSON.stringify(r, null, 2)}\n`);
      updateBenchmarks(recordedSoakSection()!);
      log('soak-ssh: recorded in bench/soak-ssh-results.json and BENCHMARKS.md');
    }
    process.exit(0);
  }
}
