// Terminal setup and restore: alternate screen on start; restored exactly once on quit, on a
// signal and on a crash, with the process-wide handlers removed afterwards.
import {Writable} from 'node:stream';
import {afterEach, describe, expect, test, vi} from 'vitest';
import {setupTerminal} from '../src/ui/terminal.js';

function fakeTty() {
  let text = '';
  const w = new Writable({write(c, _e, cb) { text += String(c); cb(); }}) as Writable & {isTTY: boolean};
  w.isTTY = true;
  const stdin = {isTTY: true, raw: true as boolean, setRawMode(m: boolean) { this.raw = m; return this; }};
  return {out: w as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream & {raw: boolean}, text: () => text};
}

const EVENTS = ['SIGTERM', 'SIGHUP', 'SIGINT', 'uncaughtException', 'unhandledRejection', 'exit'] as const;
const counts = () => EVENTS.map((e) => process.listenerCount(e));

afterEach(() => { vi.restoreAllMocks(); });

describe('terminal guard', () => {
  test('enters the alternate screen and restores once on quit', async () => {
    const before = counts();
    const t = fakeTty();
    const g = setupTerminal({stdout: t.out, stdin: t.stdin});
    expect(t.text()).toContain('\x1b[?1049h');
    expect(counts()).toEqual(before.map((n) => n + 1));
    g.restore();
    g.restore();
    await new Promise((r) => setImmediate(r));
    expect(t.text().match(/\x1b\[\?1049l/g)).toHaveLength(1);
    expect(t.text()).toContain('\x1b[?25h');
    expect(t.stdin.raw).toBe(false);
    expect(counts()).toEqual(before);
  });

  test('a crash restores the terminal, reports the error and exits 1', async () => {
    const before = counts();
    const t = fakeTty();
    setupTerminal({stdout: t.out, stdin: t.stdin});
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const handler = process.listeners('uncaughtException').at(-1)!;
    handler(new Error('boom'), 'uncaughtException');
    await new Promise((r) => setImmediate(r));
    expect(t.text()).toContain('\x1b[?1049l');
    expect(String(stderr.mock.calls[0]?.[0])).toContain('lvsdeck: crashed: Error: boom');
    expect(exit).toHaveBeenCalledWith(1);
    expect(counts()).toEqual(before);
  });

  test('SIGTERM restores the terminal and exits 143', async () => {
    const t = fakeTty();
    let told = '';
    setupTerminal({stdout: t.out, stdin: t.stdin, onSignal: (s) => { told = s; }});
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const handler = process.listeners('SIGTERM').at(-1)!;
    (handler as (s: string) => void)('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(t.text()).toContain('\x1b[?1049l');
    expect(told).toBe('SIGTERM');
    expect(exit).toHaveBeenCalledWith(143);
  });

  test('without a TTY (or --no-alt-screen) the screen is left alone', () => {
    const t = fakeTty();
    (t.out as unknown as {isTTY: boolean}).isTTY = false;
    const g = setupTerminal({stdout: t.out, stdin: t.stdin});
    g.restore();
    expect(t.text()).not.toContain('\x1b[?1049');
  });
});
