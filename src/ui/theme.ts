// Colours, or none: NO_COLOR (https://no-color.org) or --mono turn every colour off; emphasis
// then uses bold / inverse only, and charts drop their ANSI colours.
export interface Theme {
  mono: boolean;
  /** A colour name for Ink, or undefined in monochrome. */
  c(name?: string): string | undefined;
}

export function makeTheme(mono: boolean): Theme {
  return {mono, c: (name) => (mono ? undefined : name)};
}

/** Whether the environment asks for no colour. */
export function envWantsMono(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
}

/** Defense badge: the mode's word and its colour (off / armed / ACTIVE / always). */
export function defenseBadge(mode: number): {word: string; color: string; strong: boolean} {
  switch (mode) {
    case 0: return {word: 'off', color: 'gray', strong: false};
    case 1: return {word: 'armed', color: 'yellow', strong: false};
    case 2: return {word: 'ACTIVE', color: 'red', strong: true};
    default: return {word: 'always', color: 'magenta', strong: true};
  }
}
