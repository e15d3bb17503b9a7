// The flags every long-running command shares for observability: --metrics ADDR:PORT,
// --metrics-public, and --capture-out FILE; and starting what they ask for.
import type {Engine} from '../engine/engine.js';
import {captureOut} from '../capture/tap.js';
import {type MetricsListen, type MetricsServer, startMetricsServer} from './server.js';
import type {MetricsSource} from './source.js';

export interface ObserveOptions {
  metrics?: MetricsListen;
  metricsPublic?: boolean;
  captureOut?: string;
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
