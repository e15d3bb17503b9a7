// UI benchmarks (not tests): the chart adapter's cost per frame, a full 140x45 Connections frame
// over a million entries (engine query + React + Ink output), and keypress-to-screen latency while
// a SYN flood runs. `NODE_ENV=production node --import tsx bench/ui.tsx` prints the figures;
// runUiBench() returns them in the BenchFigure shape of bench/common.ts for bench/run.ts.
// Set NODE_ENV on the command line: changing it at run time after modules are compiled mixes
// React's development and production builds and Ink then draws nothing.
// The live CPU figure (the real binary in tmux) is measured by bench/ui-cpu.sh.
import {PassThrough, Writable} from 'node:stream';
import type {BenchFigure} from './common.js';
import {inkMaxFps} from '../src/app/run-app.js';
import {spread, timeMs} from './common.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
if (process.env.NODE_ENV !== 'production') log('note: run with NODE_ENV=production for the figures the app sees');

function fakeStdout(cols: number, rows: number) {
  let bytes = 0;
  const dbg = process.env.UIBENCH_DEBUG;
  const w = new Writable({write(_c, _e, cb) { if (dbg) process.stderr.write('W:' + String(_c).slice(0, 300) + '\n'); bytes += _c.length; if (_c.length > 32) w.emit('frame'); cb(); }}) as Writable & {columns: number; rows: number; isTTY: boolean};
  w.columns = cols; w.rows = rows; w.isTTY = true; // Ink draws live frames only to a TTY
  return {stream: w, bytes: () => bytes};
}

function fakeStdin() {
  const s = new PassThrough() as PassThrough & {isTTY: boolean; setRawMode: (m: boolean) => void; ref: () => void; unref: () => void};
  s.isTTY = true;
  s.setRawMode = () => {};
  s.ref = () => {};
  s.unref = () => {};
  return s;
}

export async function runUiBench(report = log): Promise<BenchFigure[]> {
  const figs: BenchFigure[] = [];
  const {renderLineChart, renderSparkline, renderStackGauge} = await import('../src/ui/charts.js');
  // ---- 1. chart adapter: what the 140x45 Dashboard draws when its data changes
  const pts = (k: number) => Array.from({length: 76}, (_, i) => Math.round(1000 + 800 * Math.sin(i / 6 + k)));
  const series = [0, 1, 2, 3].map((k) => ({y: pts(k), color: ['red', 'yellow', 'magenta', 'cyan'][k]!}));
  const charts = timeMs(300, () => {
    renderLineChart(series, 81, 36);
    renderStackGauge([{fraction: 0.3, color: 'white'}, {fraction: 0.5, color: 'magenta'}, {fraction: 0.15, color: 'green'}, {fraction: 0.05, color: 'red'}], 140);
    for (let i = 0; i < 3; i++) renderSparkline(pts(i), 36);
    for (let i = 0; i < 7; i++) renderSparkline(pts(i), 40);
  });
  const lineOnly = timeMs(300, () => renderLineChart(series, 81, 36));
  report(`chart adapter per Dashboard frame (line 81x36 x4 series + gauge + 10 sparklines): median ${charts.median.toFixed(3)} ms (line chart alone ${lineOnly.median.toFixed(3)} ms)`);
  figs.push({id: 'chart-line', figure: 'one 81x36 line chart, 4 series (baseline)', value: lineOnly.median, min: lineOnly.min, max: lineOnly.max, unit: 'ms'});
  figs.push({figure: 'chart adapter per Dashboard frame (4-series line chart, gauge, 10 sparklines)', value: charts.median, min: charts.min,
    max: charts.max, unit: 'ms', baseline: 'chart-line', target: {of: 'value', op: '<', limit: 10, why: 'a tenth of a 10 Hz frame'}});

  // ---- 2. full 140x45 Connections frame over ~1M entries
  const [{buildDemo}, {AuditLog}, {LocalBackend, ManualClock}, {UiSession}, {render}, {App}] = await Promise.all([
    import('../src/demo/default-config.js'), import('../src/store/actions.js'), import('../src/store/backend.js'),
    import('../src/store/session.js'), import('ink'), import('../components/App.js'),
  ]);
  const sim = buildDemo(1, {totalBytes: 4 * 2 ** 30, usedBytes: 2 ** 30});
  sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 30000, maxPending: 2_000_000});
  const t0 = performance.now();
  sim.runUntil(34_000);
  const nconn = sim.engine.snapshot().conns;
  report(`built ${nconn.toLocaleString('en-US')} connection entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const backend = new LocalBackend(sim, new ManualClock(sim));
  const session = new UiSession({backend, audit: new AuditLog(), size: {cols: 140, rows: 45}});
  const out = fakeStdout(140, 45);
  const stdin = fakeStdin();
  const inkTimes: number[] = [];
  const inst = render(<App session={session} />, {
    stdout: out.stream as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, exitOnCtrlC: false,
    patchConsole: false, maxFps: 1000, onRender: (m) => inkTimes.push(m.renderTime),
  });
  session.setView('conns');
  await new Promise((r) => setTimeout(r, 50));
  const frame = async (mutate: () => void) => {
    mutate();
    sim.advance(100, 20_000);
    let wroteAt = 0;
    const wrote = new Promise<void>((resolve) => out.stream.once('frame', () => { wroteAt = performance.now(); resolve(); }));
    const a = performance.now();
    session.refresh();
    // React may commit (and Ink write) synchronously inside refresh(): the query part is the
    // session's own measure of its backend calls, taken before the store update.
    const q = session.lastQueryMs;
    await Promise.race([wrote, new Promise((r) => setTimeout(r, 500))]);
    return {query: q, total: (wroteAt || performance.now()) - a};
  };
  const variants: [string, () => void][] = [
    ['unfiltered, slot order, first page', () => {}],
    ['unfiltered, slot order, page at 500k', () => session.store.setState({conns: {...session.state.conns, sel: 500_000}})],
    ['sorted by expires', () => session.store.setState({conns: {...session.state.conns, sort: 'expires', desc: false, sel: 0}})],
    ['filter 10.1.0.11 (address)', () => session.store.setState({conns: {...session.state.conns, sort: null, filter: '10.1.0.11', sel: 0}})],
    ['filter ESTABLISHED (state)', () => session.store.setState({conns: {...session.state.conns, filter: 'established', sel: 0}})],
  ];
  for (const [name, set] of variants) {
    const q: number[] = [], tot: number[] = [];
    inkTimes.length = 0;
    for (let i = 0; i < 15; i++) {
      const r = await frame(() => { set(); (session as unknown as {connsDirty: boolean}).connsDirty = true; });
      if (i >= 3) { q.push(r.query); tot.push(r.total); }
    }
    const sq = spread(q), st = spread(tot), si = spread(inkTimes.slice(3));
    report(`140x45 Connections frame, ${nconn.toLocaleString('en-US')} entries, ${name}: engine-query part median ${sq.median.toFixed(1)} ms (min ${sq.min.toFixed(1)}, max ${sq.max.toFixed(1)}); whole frame to stdout ${st.median.toFixed(1)} ms; Ink output ${si.median.toFixed(1)} ms`);
    figs.push({figure: `1M-entry Connections frame, engine query: ${name}`, value: sq.median, min: sq.min, max: sq.max, unit: 'ms',
      target: {of: 'value', op: '<', limit: 8}});
    figs.push({figure: `1M-entry Connections frame, whole frame: ${name}`, value: st.median, min: st.min, max: st.max, unit: 'ms',
      target: {of: 'value', op: '<', limit: 100, why: 'one frame at 10 Hz'}});
  }
  inst.unmount();

  // ---- 3. keypress -> screen while a SYN flood runs (live clock, 10 Hz publisher, the app's Ink throttle)
  const {SimClock} = await import('../src/app/clock.js');
  const sim2 = buildDemo(1);
  sim2.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 50_000});
  const clock = new SimClock(sim2, {speed: 1});
  const backend2 = new LocalBackend(sim2, clock);
  const s2 = new UiSession({backend: backend2, audit: new AuditLog(), size: {cols: 140, rows: 45}});
  const out2 = fakeStdout(140, 45);
  const stdin2 = fakeStdin();
  let lastFrameAt = 0;
  out2.stream.on('frame', () => { lastFrameAt = performance.now(); });
  const inst2 = render(<App session={s2} />, {
    stdout: out2.stream as unknown as NodeJS.WriteStream, stdin: stdin2 as unknown as NodeJS.ReadStream, exitOnCtrlC: false,
    patchConsole: false, maxFps: inkMaxFps(10),
  });
  clock.start();
  s2.start(10);
  s2.setView('conns');
  await new Promise((r) => setTimeout(r, 1500));
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 130 + (i * 37) % 90));
    const before = s2.state.conns.sel;
    const sent = performance.now();
    stdin2.write(i % 2 ? 'k' : 'j');
    // the frame that shows the new selection is the first write after the store changed
    await new Promise<void>((resolve) => {
      const check = () => (s2.state.conns.sel !== before && lastFrameAt > sent ? resolve() : setTimeout(check, 1));
      check();
    });
    lat.push(lastFrameAt - sent);
  }
  clock.stop();
  s2.stop();
  inst2.unmount();
  const sl = spread(lat);
  const eff = clock.info().effective;
  report(`keypress -> frame while a 50k/s SYN flood runs: median ${sl.median.toFixed(0)} ms, max ${sl.max.toFixed(0)} ms (effective speed ×${eff})`);
  figs.push({figure: 'keypress to screen during a SYN flood', value: sl.median, min: sl.min, max: sl.max, unit: 'ms',
    target: {of: 'value', op: '<', limit: 100}});
  return figs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await runUiBench();
  // --json: one line for bench/run.ts, which runs this file in its own production-mode process
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(figs)}\n`);
  process.exit(0);
}
