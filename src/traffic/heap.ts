// A binary min-heap of (time, value) pairs on parallel arrays: the generators' pending events.
export class TimeHeap<T> {
  private times: number[] = [];
  private vals: T[] = [];
  private seqs: number[] = [];
  private seq = 0;

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times.length ? this.times[0]! : Infinity;
  }

  push(t: number, v: T): void {
    const times = this.times, vals = this.vals, seqs = this.seqs;
    let i = times.length;
    const s = this.seq++;
    times.push(t); vals.push(v); seqs.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (times[p]! < t || (times[p] === t && seqs[p]! < s)) break;
      times[i] = times[p]!; vals[i] = vals[p]!; seqs[i] = seqs[p]!;
      i = p;
    }
    times[i] = t; vals[i] = v; seqs[i] = s;
  }

  pop(): T | undefined {
    const times = this.times, vals = this.vals, seqs = this.seqs;
    if (!times.length) return undefined;
    const top = vals[0]!;
    const t = times.pop()!, v = vals.pop()!, s = seqs.pop()!;
    const n = times.length;
    if (n) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i, mt = t, ms = s;
        if (l < n && (times[l]! < mt || (times[l] === mt && seqs[l]! < ms))) { m = l; mt = times[l]!; ms = seqs[l]!; }
        if (r < n && (times[r]! < mt || (times[r] === mt && seqs[r]! < ms))) { m = r; }
        if (m === i) break;
        times[i] = times[m]!; vals[i] = vals[m]!; seqs[i] = seqs[m]!;
        i = m;
      }
      times[i] = t; vals[i] = v; seqs[i] = s;
    }
    return top;
  }

  clear(): void {
    this.times = []; this.vals = []; this.seqs = [];
  }
}
