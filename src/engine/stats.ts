// Statistics counters and the kernel's rate estimator (ip_vs_est.c): every 2 s each stats object
// folds the counter deltas into fixed-point EWMA rates (weight 1/4); cps/pps scaled by 2^10,
// bytes/s by 2^5. Reads report "current - zero point" like ip_vs_copy_stats after ipvsadm -Z.

export interface StatsCounters {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export interface StatsRates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

export class Stats implements StatsCounters {
  conns = 0;
  inpkts = 0;
  outpkts = 0;
  inbytes = 0;
  outbytes = 0;
  // Zero point set by ip_vs_zero_stats.
  private z: StatsCounters = {conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0};
  // Estimator state: last counters and fixed-point rates.
  private last: StatsCounters = {conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0};
  private cpsFp = 0;
  private inppsFp = 0;
  private outppsFp = 0;
  private inbpsFp = 0;
  private outbpsFp = 0;

  /** Counters as ipvsadm shows them (relative to the last zeroing). */
  read(): StatsCounters {
    return {
      conns: this.conns - this.z.conns,
      inpkts: this.inpkts - this.z.inpkts,
      outpkts: this.outpkts - this.z.outpkts,
      inbytes: this.inbytes - this.z.inbytes,
      outbytes: this.outbytes - this.z.outbytes,
    };
  }

  /** ip_vs_read_estimator: round to nearest, exact halves down. */
  rates(): StatsRates {
    return {
      cps: Math.floor((this.cpsFp + 511) / 1024),
      inpps: Math.floor((this.inppsFp + 511) / 1024),
      outpps: Math.floor((this.outppsFp + 511) / 1024),
      inbps: Math.floor((this.inbpsFp + 15) / 32),
      outbps: Math.floor((this.outbpsFp + 15) / 32),
    };
  }

  /** Raw fixed-point rates, for tests of the estimator arithmetic. */
  fixedPointRates(): StatsRates {
    return {cps: this.cpsFp, inpps: this.inppsFp, outpps: this.outppsFp, inbps: this.inbpsFp, outbps: this.outbpsFp};
  }

  /** One 2-second estimator step (ip_vs_chain_estimation). Shifts of signed values floor, as >> does. */
  estimate(): void {
    const l = this.last;
    this.cpsFp += Math.floor(((this.conns - l.conns) * 512 - this.cpsFp) / 4);
    this.inppsFp += Math.floor(((this.inpkts - l.inpkts) * 512 - this.inppsFp) / 4);
    this.outppsFp += Math.floor(((this.outpkts - l.outpkts) * 512 - this.outppsFp) / 4);
    this.inbpsFp += Math.floor(((this.inbytes - l.inbytes) * 16 - this.inbpsFp) / 4);
    this.outbpsFp += Math.floor(((this.outbytes - l.outbytes) * 16 - this.outbpsFp) / 4);
    this.snapshotInto(l);
  }

  /** ip_vs_zero_stats: the current counters become the zero point; rates restart from 0. */
  zero(): void {
    this.snapshotInto(this.z);
    this.snapshotInto(this.last);
    this.cpsFp = this.inppsFp = this.outppsFp = this.inbpsFp = this.outbpsFp = 0;
  }

  private snapshotInto(t: StatsCounters): void {
    t.conns = this.conns;
    t.inpkts = this.inpkts;
    t.outpkts = this.outpkts;
    t.inbytes = this.inbytes;
    t.outbytes = this.outbytes;
  }
}
