// The flags every long-running command shares for observability: --metrics ADDR:PORT,
// --metrics-public, and --capture-out FILE; and starting what they ask for.
import type {Engine} from '../engine/engine.js';
import {captureOut} from '../capture/tap.js';
import {type MetricsListen, type MetricsServer, parseMetricsListen, startMetricsServer} from './server.js';
import type {MetricsSource} from './source.js';

export interface ObserveOptions {
  metrics?: MetricsListen;
  metricsPublic?: boolean;
  captureOut?: string;
}

export const OBSERVE_HELP = `  --metrics ADDR:PORT  serve Prometheus metrics and the JSON API (docs/metrics.md); loopback only
                    unless --metrics-public; port 0 picks a free one (printed on stderr)
  --metrics-public  allow a --metrics address that is not loopback (no authentication!)
  --capture-out FILE  write every packet the engine sees to FILE (.pcapng: with verdict comments;
                    otherwise pcap, drops listed in FILE.drops)
`;

/** Take one of the observability flags; false when `flag` is not one of them. Throws on a bad value. */
export function takeObserveFlag(flag: string, value: () => string, o: ObserveOptions): boolean {
  switch (flag) {
    case '--metrics': o.metrics = parseMetricsListen(value()); return true;
    case '--metrics-public': o.metricsPublic = true; return true;
    case '--capture-out': o.captureOut = value(); return true;
    default: return false;
  }
}

/** Start the metrics listener if asked; says where on stderr. */
export async function startMetrics(source: () => MetricsSource, o: ObserveOptions, log: (line: string) => void = (s) => process.stderr.write(s)): Promise<MetricsServer | null> {
  if (!o.metrics) return null;
  const m = await startMetricsServer(source(), o.metrics, {allowRemote: o.metricsPublic});
  log(`metrics: ${m.url}/metrics (JSON: ${m.url}/api/v1/snapshot)\n`);
  return m;
}

/** Start writing a capture of what `e` sees if asked; the returned function finishes the file. */
export function startCaptureOut(e: Engine, o: ObserveOptions): () => void {
  if (!o.captureOut) return () => {};
  const c = captureOut(e, o.captureOut);
  return () => c.close();
}
