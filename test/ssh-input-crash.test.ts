// A key sequence that makes Ink's input handling throw (ink 6.8 use-input.ts: a CSI with a Ctrl
// modifier and a code it has no name for) must not end the server: found by the ssh-channel fuzz
// target (seed 1, case 138). The keys are dropped at the ssh input adapter; the session goes on.
import {PassThrough, Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {buildDemo} from '../src/demo/default-config.js';
import {DeckHost} from '../src/ssh/host.js';
import {asTtyIn, InputThrottle} from '../src/ssh/tty.js';

describe('ssh input: keys Ink throws on', () => {
  it('ESC [1;5X, ESC [99;5~, ESC O5X: no uncaught exception, the session keeps working and q still quits', async () => {
    const host = new DeckHost({sim: buildDemo(1), fps: 10});
    const out = Object.assign(new Writable({write: (_c, _e, cb) => cb()}), {isTTY: true, columns: 100, rows: 30});
    const ch = new PassThrough();
    const input = new InputThrottle(ch);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const h = host.attach({identity: {user: 't', role: 'reader', from: 'test'}, stdout: out as never, stdin: asTtyIn(input)});
      const tick = () => new Promise((r) => setTimeout(r, 20));
      for (const seq of ['\x1b[1;5X', '\x1b[99;5~', '\x1bO5X']) {
        ch.write(seq);
        await tick();
      }
      expect(uncaught).toEqual([]);
      expect(input.inputErrors).toBeGreaterThan(0);
      expect(h.closed).toBe(false);
      ch.write('3'); // a key after them still reaches the UI
      await tick();
      expect(h.session.state.view).toBe('conns');
      ch.write('q');
      await tick();
      expect(h.closed).toBe(true);
    } finally {
      process.off('uncaughtException', onUncaught);
      host.stop();
    }
  });
});
