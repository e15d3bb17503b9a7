// UI benchmarks (not tests): a full 140x45 frame over a million entries (engine query, React and
// layout, Ink's output stage, the write) drawn by the current components and by the pre-change
// ones kept in bench/baseline/, the chart adapter's share of a Dashboard frame, and
// keypress-to-screen latency while a SYN flood runs against the same with no traffic. `NODE_ENV=production node --import tsx bench/ui.tsx` prints the figures;
// runUiBench() returns them in the BenchFigure shape of bench/common.ts for bench/run.ts.
// Set NODE_ENV on the command line: changing it at run time after modules are compiled mixes
// React's development and production builds and Ink then draws nothing.
// The live CPU figure (the real binary in tmux) is measured by bench/ui-cpu.sh.
import {writeFileSync} from 'node:fs';
import {PassThrough, Writable} from 'node:stream';
import type {BenchFigure} from './common.js';
import {spread, spreadFigure, timeMs} from './common.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
// Colours on, as in a terminal (stdout here is a pipe): set before Ink (and chalk) is first loaded.
process.env.FORCE_COLOR ??= '1';
if (process.env.NODE_ENV !== 'production') log('note: run with NODE_ENV=production for the figures the app sees');

function fakeStdout(cols: number, rows: number) {
  let bytes = 0;
  const dbg = process.env.UIBENCH_DEBUG;
  const w = new Writable({write(_c, _e, cb) { if (dbg) process.stderr.write('W:' + String(_c).slice(0, 300) + '\n'); bytes += _c.length; if (_c.length > 32) w.emit('frame', String(_c)); cb(); }}) as Writable & {columns: number; rows: number; isTTY: boolean};
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

type Report = (s: string) => void;
type Stages = {query: number; react: number; layout: number; ink: number; write: number; total: number; cpu: number};

export async function runUiBench(report: Report = log): Promise<BenchFigure[]> {
  // UIBENCH_ONLY=frames runs the frame comparison alone (profiling, quick checks)
  const frames = await frameFigures(report);
  if (process.env.UIBENCH_ONLY === 'frames') return frames.figs;
  return [...frames.figs, ...(await chartFigures(report, frames.dashboardMs)), ...(await keypressFigures(report))];
}

/** The chart adapter: what the 140x45 Dashboard draws when its data changes, as a share of the whole frame. */
async function chartFigures(report: Report, dashboardFrameMs: number): Promise<BenchFigure[]> {
  const {renderLineChart, renderSparkline, renderStackGauge} = await import('../src/ui/charts.js');
  const pts = (k: number) => Array.from({length: 132}, (_, i) => Math.round(1000 + 800 * Math.sin(i / 6 + k)));
  const series = [0, 1, 2, 3].map((k) => ({y: pts(k), color: ['red', 'yellow', 'magenta', 'cyan'][k]!}));
  const charts = timeMs(300, () => {
    renderLineChart(series, 81, 14);
    renderLineChart(series.slice(0, 2), 81, 13);
    renderStackGauge([{fraction: 0.3, color: 'white'}, {fraction: 0.5, color: 'magenta'}, {fraction: 0.15, color: 'green'}, {fraction: 0.05, color: 'red'}], 140);
    for (let i = 0; i < 13; i++) renderSparkline(pts(i), 28);
  });
  report(`chart adapter per Dashboard frame (two line charts 81x14 and 81x13, gauge, 13 sparklines): median ${charts.median.toFixed(3)} ms; whole Dashboard frame ${dashboardFrameMs.toFixed(2)} ms`);
  return [spreadFigure('chart adapter per Dashboard frame (two line charts, gauge, 13 sparklines)', charts, 'ms',
    {baseline: 'frame-dashboard', target: {of: 'ratio', op: '<', limit: 0.5, why: 'under half of the Dashboard frame'}})];
}

/**
 * A full 140x45 frame over ~1M entries, drawn by the current components and by the pre-change
 * ones (bench/baseline/) from the same engine at the same instant, interleaved frame by frame.
 */
async function frameFigures(report: Report): Promise<{figs: BenchFigure[]; dashboardMs: number}> {
  const [{buildDemo}, {AuditLog}, {LocalBackend, ManualClock}, {UiSession}, {render}, {App}, {BaselineApp}] = await Promise.all([
    import('../src/demo/default-config.js'), import('../src/store/actions.js'), import('../src/store/backend.js'),
    import('../src/store/session.js'), import('ink'), import('../components/App.js'), import('./baseline/App.js'),
  ]);
  // the current components draw as the app does, with Ink's output caches kept across frames; the
  // pre-change ones as before, without
  const {setInkOutputCache} = await import('../src/ui/ink-output-cache.js');
  const sim = buildDemo(1, {totalBytes: 4 * 2 ** 30, usedBytes: 2 ** 30});
  sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 30000, maxPending: 1_000_000});
  const t0 = performance.now();
  sim.runUntil(34_000);
  const nconn = sim.engine.snapshot().conns;
  report(`built ${nconn.toLocaleString('en-US')} connection entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const backend = new LocalBackend(sim, new ManualClock(sim));
  const audit = new AuditLog();
  // Ink's layout pass (yoga) timed on its own: every Ink instance lays out through this prototype
  const {default: Yoga} = await import('yoga-layout');
  const yogaProto = Object.getPrototypeOf(Yoga.Node.create()) as {calculateLayout: (...a: unknown[]) => void};
  const calculateLayout = yogaProto.calculateLayout;
  let layoutMs = 0;
  yogaProto.calculateLayout = function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    calculateLayout.apply(this, args);
    layoutMs += performance.now() - t;
  };
  type Side = 'current' | 'baseline' | 'panels';
  /** One Ink instance with its own session over the shared backend, and its frame timings. */
  const mount = (root: Side) => {
    const session = new UiSession({backend, audit, size: {cols: 140, rows: 45}});
    const out = fakeStdout(140, 45);
    let rendered: {at: number; ms: number} | null = null;
    let lastFrame = '';
    out.stream.on('frame', (chunk: string) => { lastFrame = chunk; });
    const el = root === 'current' ? <App session={session} /> : <BaselineApp session={session} panels={root === 'panels'} />;
    const inst = render(el, {
      stdout: out.stream as unknown as NodeJS.WriteStream, stdin: fakeStdin() as unknown as NodeJS.ReadStream, exitOnCtrlC: false,
      patchConsole: false, maxFps: 1000, onRender: (m) => { rendered = {at: performance.now(), ms: m.renderTime}; },
    });
    /** Publish and wait for the frame on "stdout": the cost of each stage in ms, or null if nothing was drawn. */
    const frame = async (force: boolean): Promise<Stages | null> => {
      rendered = null;
      let wroteAt = 0;
      const wrote = new Promise<boolean>((resolve) => out.stream.once('frame', () => { wroteAt = performance.now(); resolve(true); }));
      (session as unknown as {connsDirty: boolean}).connsDirty = true;
      layoutMs = 0;
      setInkOutputCache(root === 'current');
      const a = performance.now();
      const cpu0 = process.cpuUsage();
      session.refresh(force);
      const query = session.lastQueryMs;
      const ok = await Promise.race([wrote, new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
      const r = rendered as {at: number; ms: number} | null;
      const cpu = process.cpuUsage(cpu0);
      if (!ok || !r) return null;
      return {query, react: r.at - r.ms - a - query - layoutMs, layout: layoutMs, ink: r.ms, write: wroteAt - r.at, total: wroteAt - a,
        cpu: (cpu.user + cpu.system) / 1000};
    };
    return {session, frame, inst, last: () => lastFrame};
  };
  const mounts: Record<Side, ReturnType<typeof mount>> = {current: mount('current'), baseline: mount('baseline'), panels: mount('panels')};
  await new Promise((r) => setTimeout(r, 50));
  const conns = (set: (c: InstanceType<typeof UiSession>['state']['conns']) => Partial<InstanceType<typeof UiSession>['state']['conns']>) => () => {
    for (const m of Object.values(mounts)) m.session.store.setState({conns: {...m.session.state.conns, ...set(m.session.state.conns)}});
  };
  // `before`: the components each frame is compared with. The Dashboard is drawn three ways: the
  // current one, the same panels before their lines were pre-painted (same look), and the older
  // Dashboard without the lower panels (less on screen: what the panels cost).
  const variants: {id: string; name: string; view: 'conns' | 'dashboard'; set: () => void; stepMs: number; sides: Side[]}[] = [
    {id: 'conns-first', name: 'Connections, unfiltered, slot order, first page', view: 'conns', set: () => {}, stepMs: 100, sides: ['current', 'baseline']},
    {id: 'conns-500k', name: 'Connections, unfiltered, slot order, page at 500k', view: 'conns', set: conns(() => ({sel: 500_000})), stepMs: 100, sides: ['current', 'baseline']},
    {id: 'conns-sorted', name: 'Connections, sorted by expires', view: 'conns', set: conns(() => ({sort: 'expires', desc: false, sel: 0})), stepMs: 100, sides: ['current', 'baseline']},
    {id: 'conns-addr', name: 'Connections, filter 10.1.0.11 (address)', view: 'conns', set: conns(() => ({sort: null, filter: '10.1.0.11', sel: 0})), stepMs: 100, sides: ['current', 'baseline']},
    {id: 'conns-state', name: 'Connections, filter ESTABLISHED (state)', view: 'conns', set: conns(() => ({filter: 'established', sel: 0})), stepMs: 100, sides: ['current', 'baseline']},
    // a new virtual second every frame (>= 10x speed): every chart and sparkline is redrawn
    {id: 'dashboard', name: 'Dashboard, new data every frame', view: 'dashboard', set: () => {}, stepMs: 1000, sides: ['current', 'panels', 'baseline']},
  ];
  // for --cpu-prof of one view and one component set: UIBENCH_VARIANTS=dashboard,conns-first draws
  // only those, UIBENCH_SIDE=current|baseline|panels only that set (no comparison, no figures)
  const pick = process.env.UIBENCH_VARIANTS?.split(',');
  const only = process.env.UIBENCH_SIDE as Side | undefined;
  const repeats = Number(process.env.UIBENCH_FRAMES ?? 15);
  const figs: BenchFigure[] = [];
  let dashboardMs = 0;
  const STAGES = ['query', 'react', 'layout', 'ink', 'write', 'total', 'cpu'] as const;
  const STAGE_LABEL = {react: 'React render and commit', layout: 'Ink layout (yoga)', ink: 'Ink output (text to screen lines)', write: 'write'} as const;
  for (const v of variants) {
    if (pick && !pick.includes(v.id)) continue;
    const sides = only ? [only] : v.sides;
    for (const m of Object.values(mounts)) m.session.setView(v.view);
    const res = Object.fromEntries(sides.map((k) => [k, [] as Stages[]])) as Record<Side, Stages[]>;
    const same: Partial<Record<Side, number>> = {};
    let compared = 0;
    for (let i = 0; i < repeats + 3; i++) {
      v.set();
      sim.advance(v.stepMs, 40_000);
      // rotate which set draws first, so none always runs on a warmer cache
      const order = sides.map((_, k) => sides[(i + k) % sides.length]!);
      const got: Partial<Record<Side, Stages | null>> = {};
      for (const name of order) got[name] = await mounts[name].frame(v.view === 'dashboard');
      // the sets not compared here still publish, so every session keeps the same history
      for (const name of Object.keys(mounts) as Side[]) if (!order.includes(name)) await mounts[name].frame(v.view === 'dashboard');
      if (only || i < 3 || sides.some((k) => !got[k])) continue;
      for (const k of sides) res[k].push(got[k]!);
      compared++;
      // the title line shows each session's own query time: the rest must match byte for byte
      const norm = (f: string) => f.replace(/query [\d.]+ ms/, 'query - ms');
      for (const k of sides) if (norm(mounts.current.last()) === norm(mounts[k].last())) same[k] = (same[k] ?? 0) + 1;
      if (process.env.UIBENCH_DUMP) for (const k of sides) if (norm(mounts.current.last()) !== norm(mounts[k].last())) { writeFileSync(`${process.env.UIBENCH_DUMP}.${v.id}.${k}`, mounts[k].last()); writeFileSync(`${process.env.UIBENCH_DUMP}.${v.id}.current`, mounts.current.last()); }
    }
    if (only) continue;
    const med = (xs: Stages[], k: keyof Stages) => spread(xs.map((x) => x[k]));
    const line = (xs: Stages[]) => STAGES.map((k) => `${k} ${med(xs, k).median.toFixed(2)}`).join(', ');
    // the figures' "before": the same look drawn the old way
    const before: Side = v.view === 'dashboard' ? 'panels' : 'baseline';
    report(`140x45 frame over ${nconn.toLocaleString('en-US')} entries, ${v.name} (${compared} frames): ` +
      sides.map((k) => `${k}: ${line(res[k])} ms${k === 'current' ? '' : `, identical to current ${same[k] ?? 0}/${compared}`}`).join('; '));
    const key = `frame-${v.id}`;
    const beforeName = v.view === 'dashboard' ? 'the same panels before pre-painting' : 'the pre-change components';
    const tc = med(res.current, 'total'), tb = med(res[before], 'total');
    if (v.view === 'dashboard') dashboardMs = tc.median;
    figs.push(spreadFigure(`${beforeName}, whole frame (query to stdout): ${v.name}`, tb, 'ms', {id: `${key}-before`}));
    figs.push(spreadFigure(`whole frame (query to stdout): ${v.name}`, tc, 'ms', {id: key, baseline: `${key}-before`,
      target: {of: 'value', op: '<', limit: 8, why: 'issue 15'}}));
    const cc = med(res.current, 'cpu'), cb = med(res[before], 'cpu');
    figs.push(spreadFigure(`${beforeName}, CPU time of the frame: ${v.name}`, cb, 'ms', {id: `${key}-cpu-before`}));
    figs.push(spreadFigure(`CPU time of the frame: ${v.name}`, cc, 'ms', {baseline: `${key}-cpu-before`,
      target: {of: 'value', op: '<', limit: 8, why: 'issue 15, without the wait for a shared CPU'}}));
    const uc = spread(res.current.map((x) => x.total - x.query)), ub = spread(res[before].map((x) => x.total - x.query));
    figs.push(spreadFigure(`${beforeName}, UI part (React, layout, Ink output, write): ${v.name}`, ub, 'ms', {id: `${key}-ui-before`}));
    figs.push(spreadFigure(`UI part (React, layout, Ink output, write): ${v.name}`, uc, 'ms', {baseline: `${key}-ui-before`,
      target: {of: 'value', op: '<', limit: 8, why: 'the frame less the engine query'}}));
    for (const k of ['react', 'layout', 'ink', 'write'] as const) {
      figs.push(spreadFigure(`${beforeName}, stage ${STAGE_LABEL[k]}: ${v.name}`, med(res[before], k), 'ms', {id: `${key}-${k}-before`}));
      figs.push(spreadFigure(`stage ${STAGE_LABEL[k]}: ${v.name}`, med(res.current, k), 'ms', {baseline: `${key}-${k}-before`,
        target: k === 'write' ? {of: 'value', op: '<', limit: 1, why: 'a write to a memory stream'} : {of: 'ratio', op: '<=', limit: 1, why: 'no stage slower than before'}}));
    }
    // same look: every frame byte for byte what the old components drew
    figs.push({figure: `frames identical to ${beforeName} (of ${compared}): ${v.name}`, value: same[before] ?? 0, unit: 'frames',
      target: {of: 'value', op: '>=', limit: compared}});
    if ((same[before] ?? 0) !== compared) report(`WARNING: ${compared - (same[before] ?? 0)} frames differ between the current components and ${beforeName}`);
    if (v.view === 'dashboard') {
      // the lower panels' cost: the current Dashboard against the older one that drew less
      const to = med(res.baseline, 'total'), co = med(res.baseline, 'cpu');
      figs.push(spreadFigure(`the Dashboard before the lower panels (less on screen), whole frame: ${v.name}`, to, 'ms', {id: `${key}-old-before`}));
      figs.push(spreadFigure(`whole frame against the Dashboard before the lower panels: ${v.name}`, tc, 'ms', {baseline: `${key}-old-before`,
        target: {of: 'ratio', op: '<=', limit: 1, why: 'the added panels cost no more than they did'}}));
      figs.push(spreadFigure(`the Dashboard before the lower panels (less on screen), CPU time of the frame: ${v.name}`, co, 'ms', {id: `${key}-old-cpu-before`}));
      figs.push(spreadFigure(`CPU time of the frame against the Dashboard before the lower panels: ${v.name}`, cc, 'ms', {baseline: `${key}-old-cpu-before`,
        target: {of: 'ratio', op: '<=', limit: 1, why: 'the added panels cost no more than they did'}}));
    }
  }
  for (const m of Object.values(mounts)) m.inst.unmount();
  yogaProto.calculateLayout = calculateLayout;
  setInkOutputCache(true);

  return {figs, dashboardMs};
}

/**
 * Keypress to screen on the live app (wall clock, 10 Hz publisher, the app's Ink throttle) while a
 * SYN flood runs, against the same keys with the flood stopped, in one run.
 */
async function keypressFigures(report: Report): Promise<BenchFigure[]> {
  const [{buildDemo}, {AuditLog}, {LocalBackend}, {UiSession}, {render}, {App}, {SimClock}, {inkMaxFps}] = await Promise.all([
    import('../src/demo/default-config.js'), import('../src/store/actions.js'), import('../src/store/backend.js'),
    import('../src/store/session.js'), import('ink'), import('../components/App.js'), import('../src/app/clock.js'), import('../src/app/run-app.js'),
  ]);
  const latency = async (floodRate: number) => {
    const sim = buildDemo(1);
    if (floodRate) sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: floodRate});
    const clock = new SimClock(sim, {speed: 1});
    const backend = new LocalBackend(sim, clock);
    const session = new UiSession({backend: backend, audit: new AuditLog(), size: {cols: 140, rows: 45}});
    const out = fakeStdout(140, 45);
    const stdin = fakeStdin();
    let lastFrameAt = 0;
    out.stream.on('frame', () => { lastFrameAt = performance.now(); });
    const inst = render(<App session={session} />, {
      stdout: out.stream as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, exitOnCtrlC: false,
      patchConsole: false, maxFps: inkMaxFps(10),
    });
    clock.start();
    session.start(10);
    session.setView('conns');
    await new Promise((r) => setTimeout(r, 1500));
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 130 + (i * 37) % 90));
      const before = session.state.conns.sel;
      const sent = performance.now();
      stdin.write(i % 2 ? 'k' : 'j');
      // the frame that shows the new selection is the first write after the store changed
      await new Promise<void>((resolve) => {
        const check = () => (session.state.conns.sel !== before && lastFrameAt > sent ? resolve() : setTimeout(check, 1));
        check();
      });
      lat.push(lastFrameAt - sent);
    }
    clock.stop();
    session.stop();
    inst.unmount();
    return {lat: spread(lat), eff: clock.info().effective};
  };
  const flood = await latency(50_000);
  const idle = await latency(0);
  report(`keypress -> frame while a 50k/s SYN flood runs: median ${flood.lat.median.toFixed(0)} ms, max ${flood.lat.max.toFixed(0)} ms (effective speed ×${flood.eff}); no traffic: median ${idle.lat.median.toFixed(0)} ms`);
  return [
    spreadFigure('keypress to screen, no traffic', idle.lat, 'ms', {id: 'key-idle'}),
    spreadFigure('keypress to screen during a 50k/s SYN flood', flood.lat, 'ms', {baseline: 'key-idle',
      target: {of: 'value', op: '<', limit: 100, why: 'one frame at 10 Hz'}}),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await runUiBench();
  // --json: one line for bench/run.ts, which runs this file in its own production-mode process
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(figs)}\n`);
  process.exit(0);
}
