// Seeded pseudo-random source for the engine (prandom_u32 stand-in): xorshift128+ style mixing
// on 32-bit lanes (sfc32), fast, repeatable for a seed, no Math.random anywhere.

export interface Rng {
  /** Uniform unsigned 32-bit integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
}

export function seededRng(seed: number): Rng {
  let a = 0x9e3779b9 ^ seed, b = 0x243f6a88, c = 0xb7e15162 ^ (seed * 31), d = 1;
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) u32();
  return {u32, float: () => u32() / 4294967296};
}
