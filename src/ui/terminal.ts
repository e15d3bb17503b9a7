// Terminal setup and restore for the live app: alternate screen while running, and the screen,
// cursor and keyboard mode restored on quit, Ctrl-C, SIGTERM/SIGHUP and on a crash.

const ENTER = '\x1b[?1049h\x1b[H\x1b[2J';
// show cursor, leave the alternate screen, disable any mouse/bracketed modes we never enabled but
// a crashed child might have left on
const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

export interface TerminalGuard {
  /** Restore the terminal (idempotent). */
  restore(): void;
}

export interface TerminalOptions {
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Use the alternate screen (default true). */
  altScreen?: boolean;
  /** Called (once) before the process exits on a signal, after the terminal is restored. */
  onSignal?: (signal: string) => void;
}

export function setupTerminal(o: TerminalOptions = {}): TerminalGuard {
  const out = o.stdout ?? process.stdout;
  const input = o.stdin ?? process.stdin;
  const alt = o.altScreen !== false && out.isTTY;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      if (input.isTTY && typeof input.setRawMode === 'function') input.setRawMode(false);
    } catch { /* stdin may be closed */ }
    if (alt) {
      try { out.write(LEAVE); } catch { /* stdout may be closed */ }
    } else {
      try { out.write('\x1b[0m\x1b[?25h'); } catch { /* ignore */ }
    }
    detach();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    restore();
    o.onSignal?.(sig);
    process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGHUP' ? 129 : 143);
  };
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`lvsdeck: crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  };
  const onExit = () => restore();
  const detach = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('SIGINT', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    process.off('exit', onExit);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // In raw mode Ctrl-C arrives as a key (Ink handles it); SIGINT still comes from `kill -INT`.
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', onExit);
  if (alt) out.write(ENTER);
  return {restore};
}
