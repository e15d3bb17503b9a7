// Long headless runs show a progress line on stderr when it is a terminal, and nothing otherwise.
import {spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {progressLine} from '../src/cli/progress.js';
import {capture, sleep, tmux} from './helpers/tmux.js';

const ROOT = join(import.meta.dirname, '..');

function fakeTty(isTTY: boolean) {
  const out: string[] = [];
  let clock = 0;
  return {out, stream: {isTTY, columns: 100, write: (s: string) => out.push(s)}, tick: (ms: number) => (clock += ms), now: () => clock};
}

describe('progressLine', () => {
  it('is null (silent) when the stream is not a terminal', () => {
    expect(progressLine(fakeTty(false).stream, 1000)).toBeNull();
  });

  it('draws share, position and time left at most ten times a second; clear erases it', () => {
    const t = fakeTty(true);
    const p = progressLine(t.stream, 400_000, {now: t.now, describe: (ms) => `t=${ms / 1000}s of 400s`})!;
    t.tick(1000);
    p.update(100_000);
    expect(t.out.at(-1)).toMatch(/^\r\x1b\[K\[#+\.+\]  25% t=100s of 400s {2}1\.0 s, ~3 s left$/);
    t.tick(50);
    p.update(110_000); // within 100 ms of the last draw: skipped
    expect(t.out).toHaveLength(1);
    p.clear();
    expect(t.out.at(-1)).toBe('\r\x1b[K');
    p.update(120_000); // drawn again right after a clear
    expect(t.out.at(-1)).toMatch(/ 30% t=120s/);
  });
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe('lvsdeck demo and run', () => {
  it('print nothing on stderr when it is not a terminal', () => {
    const demo = spawnSync(process.execPath, ['bin/lvsdeck.js', 'demo', '--for', '20s', '--every', '10s'], {cwd: ROOT, encoding: 'utf8'});
    expect(demo).toMatchObject({status: 0, stderr: ''});
    expect(demo.stdout).toMatch(/^t= +10s conns=/);
    const run = spawnSync(process.execPath, ['bin/lvsdeck.js', 'run', 'examples/synflood-drop-entry.yaml'], {cwd: ROOT, encoding: 'utf8'});
    expect(run).toMatchObject({status: 0, stderr: ''});
  });

  it.skipIf(!hasTmux)('a long demo shows the progress line on a terminal, with stdout redirected', async () => {
    const s = `lvsdeck-progress-${process.pid}`;
    tmux('new-session', '-d', '-x', '140', '-y', '10', '-s', s,
      `cd ${ROOT} && env -u CI node bin/lvsdeck.js demo --for 3000s --every 3000s > /dev/null; echo DEMO-EXIT=$?; sleep 30`);
    try {
      let seen = '';
      for (let i = 0; i < 400 && !/DEMO-EXIT/.test(seen); i++) {
        const screen = capture(s);
        if (/\[[#.]+\] +\d+% t=\d+s of 3000s/.test(screen)) { seen = screen; break; }
        if (/DEMO-EXIT/.test(screen)) seen = screen;
        await sleep(100);
      }
      expect(seen).toMatch(/\[[#.]+\] +\d+% t=\d+s of 3000s/);
    } finally {
      tmux('kill-session', '-t', s);
    }
  });
});
