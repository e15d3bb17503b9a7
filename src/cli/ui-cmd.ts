// `lvsdeck ui` (also what `lvsdeck` with no command runs): the live terminal UI.
import {attachSyncDaemons, type SyncHostOptions, takeSyncFlag} from '../sim/sync-attach.js';
import {buildDemo, DEMO_MEMORY} from '../demo/default-config.js';
import type {Simulation} from '../sim/simulation.js';
import {parseSize} from '../scenario/units.js';
import {CaptureError, openCapture} from '../capture/pcap-read.js';
import {ReplaySource, scheduleReplay} from '../capture/replay.js';
import {type ObserveOptions, OBSERVE_HELP, startCaptureOut, startMetrics, takeObserveFlag} from '../metrics/cli.js';
import type {MetricsServer} from '../metrics/server.js';
import {simulationSource} from '../metrics/source.js';

export const usage = 'the live UI: [--config FILE] [--replay FILE.pcap] [--memory 512MiB] [--seed N] [--speed X] [--fps N] [--mono] [--read-only] [--metrics ADDR:PORT]';

const HELP = `usage: lvsdeck [ui] [options]

Opens the live terminal UI on the embedded demo (three virtual services with steady client
traffic on virtual time), or on your own setup with --config.

options:
  --config FILE     start from a scenario file (YAML) or an ipvsadm-save file instead of the demo
  --memory SIZE     simulated host memory (e.g. 512MiB; default: the demo's 256MiB host, 20MiB free)
  --seed N          random seed of the simulation (default 1)
  --speed X         virtual seconds per wall second at start (default 1)
  --fps N           UI refresh rate, 1..30 (default 10)
  --mono            no colours (also when NO_COLOR is set)
  --read-only       watch only: every change is refused
  --sync ROLE       start a connection-sync daemon: master or backup (also :--start-daemon in the app)
  --sync-peer H:P   sync over unicast UDP to/from H:P instead of multicast 224.0.0.81:8848
  --mcast-interface IF  interface for multicast sync (default eth0, as ipvsadm)
  --syncid N        sync id (0..255) for --sync
  --dataplane tun   balance real traffic: a TUN device, NAT on real packets, wall-clock time
                    (needs root; with \`lvsdeck lab up\` the device joins the lab; see docs/dataplane.md)
  --dev NAME        TUN device name for --dataplane (default lvs-tun0)
  --memory host     with --dataplane: the machine's own available memory instead of the modelled host
  --replay FILE     feed a capture (pcap/pcapng) into the engine on its own timestamps, from now on
                    (see lvsdeck replay --help; --config sets the director up for it)
${OBSERVE_HELP}  --no-alt-screen   draw in the normal screen (debugging)
  -h, --help        this help
Keys: press ? in the app.
`;

export async function run(args: string[]): Promise<number> {
  let config: string | null = null;
  let memory: {totalBytes: number; usedBytes: number} = DEMO_MEMORY;
  let seed = 1, speed = 1, fps = 10;
  let seedGiven = false, memoryGiven = false;
  let mono = false, readOnly = false, altScreen = true;
  let perfFile: string | undefined;
  const sync: SyncHostOptions = {};
  const observe: ObserveOptions = {};
  let replayFile: string | null = null;
  let quitAfterMs: number | undefined;
  let dataplane: string | null = null, dev: string | undefined, hostMem = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      switch (a) {
        case '--config': config = val(); break;
        case '--dataplane': dataplane = val(); if (dataplane !== 'tun') throw new Error(`--dataplane: only 'tun' is supported, not '${dataplane}'`); break;
        case '--dev': dev = val(); break;
        case '--memory': {
          if (args[i + 1] === 'host') { i++; hostMem = true; break; }
          const total = parseSize(val());
          // keep the demo's proportions: 20/256 of the host free at start
          memory = {totalBytes: total, usedBytes: Math.round(total * (DEMO_MEMORY.usedBytes / DEMO_MEMORY.totalBytes))};
          memoryGiven = true;
          break;
        }
        case '--seed': seed = intArg(a, val()); seedGiven = true; break;
        case '--speed': speed = Number(val()); if (!(speed > 0) || speed > 10000) throw new Error('--speed wants 0 < X <= 10000'); break;
        case '--fps': fps = intArg(a, val()); if (fps < 1 || fps > 30) throw new Error('--fps wants 1..30'); break;
        case '--mono': mono = true; break;
        case '--read-only': readOnly = true; break;
        case '--no-alt-screen': altScreen = false; break;
        case '--perf-file': perfFile = val(); break;
        case '--quit-after': quitAfterMs = Number(val()) * 1000; break;
        case '--replay': replayFile = val(); break;
        case '-h': case '--help': process.stdout.write(HELP); return 0;
        default:
          if (!takeSyncFlag(a, val, sync) && !takeObserveFlag(a, val, observe)) throw new Error(`unknown option ${a} (try lvsdeck --help)`);
      }
    } catch (err) {
      process.stderr.write(`lvsdeck: ${(err as Error).message}\n`);
      return 2;
    }
  }
  let message: string | undefined;
  let sim: Simulation;
  if (config !== null) {
    const {loadConfig} = await import('../app/config.js');
    try {
      const c = loadConfig(config, {seed, memory, seedGiven, memoryGiven});
      sim = c.sim;
      message = c.notes.join('; ');
    } catch (err) {
      process.stderr.write(`lvsdeck: ${(err as Error).message}\n`);
      return 2;
    }
  } else sim = buildDemo(seed, memory);
  try {
    await attachSyncDaemons(sim, sync);
  } catch (err) {
    process.stderr.write(`lvsdeck: sync: ${(err as Error).message}\n`);
    return 2;
  }
  if ((dev !== undefined || hostMem) && dataplane === null) {
    process.stderr.write('lvsdeck: --dev and --memory host go with --dataplane tun\n');
    return 2;
  }
  let clock, stopDataplane = () => {};
  if (dataplane !== null) {
    const {startDataplaneForCli} = await import('../dataplane/cli.js');
    const started = startDataplaneForCli(sim, {dev, hostMemory: hostMem});
    if (!started) return 1;
    clock = started.clock;
    stopDataplane = started.stop;
    message = [message, started.message].filter(Boolean).join('; ');
  }
  let replay: {readonly error: string | null} | null = null;
  let metrics: MetricsServer | null = null;
  let finishCapture = () => {};
  try {
    if (replayFile !== null) {
      const file = replayFile;
      replay = scheduleReplay(sim, new ReplaySource(openCapture(file)));
      message = [message, `replaying ${file}`].filter(Boolean).join('; ');
    }
    metrics = await startMetrics(() => simulationSource(sim), observe);
    finishCapture = startCaptureOut(sim.engine, observe);
  } catch (err) {
    await metrics?.close();
    stopDataplane();
    process.stderr.write(`lvsdeck: ${err instanceof CaptureError ? `--replay ${replayFile}: ` : ''}${(err as Error).message}\n`);
    return 2;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') mono = true;
  // React's production build: ~5-10 points less CPU and ~100 MB less memory (docs/tui-stack.md, "Rendering cost").
  // Set before React, Ink and the components load (run-app is imported below, not at the top).
  process.env.NODE_ENV ??= 'production';
  const {runApp} = await import('../app/run-app.js');
  try {
    return await runApp({sim, fps, speed, mono, readOnly, altScreen, perfFile, quitAfterMs, message, clock});
  } finally {
    finishCapture();
    await metrics?.close();
    if (replay?.error) process.stderr.write(`lvsdeck: --replay ${replayFile}: stopped: ${replay.error}\n`);
    stopDataplane();
  }
}

function intArg(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${name} wants a whole number, got '${v}'`);
  return Number(v);
}
