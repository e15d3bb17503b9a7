// The observability options (--metrics, --metrics-public, --capture-out; spec: OBSERVE_OPTIONS in
// src/cli/specs.ts) of a parsed command line, as src/metrics/cli.ts starts them.
import type {ObserveOptions} from '../metrics/cli.js';
import {isLoopback, parseMetricsListen} from '../metrics/server.js';
import {type OptionValues, UsageError} from './args.js';

export function readObserveOptions(values: OptionValues): ObserveOptions {
  const o: ObserveOptions = {};
  const metrics = values.metrics;
  if (typeof metrics === 'string') {
    try { o.metrics = parseMetricsListen(metrics); } catch (err) { throw new UsageError((err as Error).message); }
  }
  if (values['metrics-public'] === true) o.metricsPublic = true;
  if (typeof values['capture-out'] === 'string') o.captureOut = values['capture-out'];
  // Refused before anything starts: the endpoint has no authentication.
  if (o.metrics && !o.metricsPublic && !isLoopback(o.metrics.host)) {
    throw new UsageError(`--metrics ${o.metrics.host}: not a loopback address; add --metrics-public to serve it there`);
  }
  return o;
}
