// A progress bar for long replays on stderr (only drawn when stderr is a terminal), at most ten
// redraws a second.
import type {WriteStream} from 'node:tty';

export function progressBar(out: WriteStream, totalBytes: number): {update(bytes: number): void; done(): void} {
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(bytes: number) {
      const now = performance.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      const share = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 0;
      const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 40));
      const fill = Math.round(share * width);
      const secs = (now - started) / 1000;
      const eta = share > 0 ? secs / share - secs : 0;
      out.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(share * 100).toFixed(0).padStart(3)}%  ${secs.toFixed(1)} s, ~${eta.toFixed(0)} s left `);
      drawn = true;
    },
    done() {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
    },
  };
}
