// One target's cases in a worker thread. The shared counters let the parent's watchdog see which
// case is running and since when (Date.now(), both threads share the wall clock), so a case that
// never returns is caught and the worker terminated; the heap is bounded by the worker's
// resourceLimits and sampled here, with the process's resident set.
import {parentPort, workerData} from 'node:worker_threads';
import {type WorkerJob, type WorkerMessage, loadTarget, runCase} from './harness.js';

const job = workerData as WorkerJob;
const ints = new Int32Array(job.progress, 0, 2);
const started = new Float64Array(job.progress, 8, 1);
const target = await loadTarget(job.file);
let peak = process.memoryUsage().heapUsed;
// the resident set is the whole process's (the parent and this worker): what the run costs the machine
let peakRss = process.memoryUsage.rss();
let k = job.from;
for (; k < job.to; k++) {
  Atomics.store(ints, 0, k);
  started[0] = Date.now();
  if (started[0] >= job.deadline) break;
  let f = runCase(target, job.seed, k);
  if (f instanceof Promise) f = await f;
  if (f) parentPort!.postMessage({type: 'failure', failure: f} satisfies WorkerMessage);
  Atomics.store(ints, 1, k + 1 - job.from);
  if ((k & 1023) === 0) {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
}
peak = Math.max(peak, process.memoryUsage().heapUsed);
peakRss = Math.max(peakRss, process.memoryUsage.rss());
parentPort!.postMessage({type: 'done', next: k, peakHeapBytes: peak, peakRssBytes: peakRss} satisfies WorkerMessage);
