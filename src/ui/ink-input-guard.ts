/**
 * Ink reads its stdin in a 'readable' listener, and its key parsing throws on some sequences a
 * terminal or an ssh client can send (ink 6.8 use-input: a CSI with a Ctrl modifier and a code it
 * has no name for, "ESC [1;5X", gives `input` undefined and `input.startsWith` throws). Thrown
 * there, nothing catches it and the process exits. Every stream Ink reads goes through this guard:
 * those keys are dropped and counted; the UI goes on. The throw also leaves the rest of the read
 * unread, and a stream not read to its end emits no further 'readable': the guard hands the event
 * to Ink again until it has read everything (each throw consumes at least one chunk).
 */
export interface InkInputGuard {
  /** Key reads Ink's input handling threw on (dropped). */
  readonly errors: number;
  /** Put the stream's own emit back. */
  release(): void;
}

/** Re-deliveries of one 'readable' event after throws, before the buffered input is dropped. */
const MAX_RETRIES = 64;

export function guardInkInput(stream: NodeJS.ReadableStream): InkInputGuard {
  const emit = stream.emit;
  const guard = {errors: 0, release: () => { stream.emit = emit; }};
  stream.emit = function guardedEmit(this: NodeJS.ReadableStream, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'readable') return emit.call(this, event, ...args);
    for (let tries = 0; tries < MAX_RETRIES; tries++) {
      try {
        return emit.call(this, event, ...args);
      } catch {
        guard.errors++;
      }
    }
    // still throwing: drop what is buffered, so that new keys raise 'readable' again
    while (this.read() !== null) { /* discard */ }
    return true;
  };
  return guard;
}
