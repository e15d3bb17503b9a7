// tmux plumbing shared by the end-to-end tests: run a command, read a pane, wait for a screen.
import {execFileSync} from 'node:child_process';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const tmux = (...args: string[]) => execFileSync('tmux', args, {encoding: 'utf8'});

/** The pane's text ('' once the session is gone). */
export const capture = (s: string) => {
  try { return tmux('capture-pane', '-p', '-t', s); } catch { return ''; }
};

export const keys = (s: string, ...k: string[]) => tmux('send-keys', '-t', s, ...k);

/** Poll the pane until `re` matches (Ink draws asynchronously); bounded by `timeoutMs`. */
export async function waitFor(s: string, re: RegExp, timeoutMs = 10_000, everyMs = 60): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    last = capture(s);
    if (re.test(last)) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${re} in session ${s}; screen:\n${last}`);
}
