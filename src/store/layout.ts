// Screen geometry shared by the components and the store (the store needs the visible row count
// to ask the engine for exactly one window of connections).

export interface TermSize {
  cols: number;
  rows: number;
}

export const HEADER_LINES = 2;
export const FOOTER_LINES = 2;
export const MIN_COLS = 60;
export const MIN_ROWS = 16;

/**
 * The UI is kept one line shorter than the terminal: when Ink's output is as tall as the screen
 * it clears the whole screen on every frame (docs/tui-stack.md, "Ink over ssh").
 */
export function layout(size: TermSize) {
  const cols = Math.max(MIN_COLS, size.cols);
  const rows = Math.max(MIN_ROWS, size.rows);
  const height = rows - 1;
  const body = height - HEADER_LINES - FOOTER_LINES;
  return {cols, rows, height, body};
}

/** Table rows visible in the Connections view (body minus its title and column header lines). */
export function connPageSize(size: TermSize): number {
  return Math.max(3, layout(size).body - 2);
}

/** Rows visible in list views with one title line and one column-header line. */
export function listPageSize(size: TermSize, extra = 0): number {
  return Math.max(3, layout(size).body - 2 - extra);
}
