// The defense machinery (ip_vs_ctl.c update_defense_level, include/net/ip_vs.h ip_vs_todrop,
// ip_vs_conn.c todrop_entry): the 0/1/2/3 mode machine, drop_packet's rate and counter, the
// secure_tcp table switch, and the per-packet-count gate of drop_entry's random sweep.
import type {Tunables} from './tunables.js';

export type DefenseName = 'drop_entry' | 'drop_packet' | 'secure_tcp';
export const DEFENSES: readonly DefenseName[] = ['drop_entry', 'drop_packet', 'secure_tcp'];

export class DefenseState {
  /** drop_entry's switch for this tick's random sweep. */
  dropEntryOn = false;
  dropRate = 0;
  dropCounter = 0;
  /** secure_tcp value seen at the previous evaluation (per netns in current kernels). */
  oldSecureTcp = 0;
  /** Whether TCP currently uses the secure ("dos") transition table. */
  secureTable = false;
  /** todrop_entry's global rate/counter arrays for in_pkts 0..8. */
  private readonly entryCounter = new Int32Array(9);

  constructor(private readonly t: Tunables) {}

  /**
   * update_defense_level with the current available memory (pages). Rewrites the 1<->2 auto modes
   * as the kernel does. Returns whether the TCP table changed.
   */
  update(availPages: number): boolean {
    const v = this.t.v;
    const nomem = availPages < v.amemthresh!;

    // drop_entry
    switch (v.drop_entry) {
      case 0: this.dropEntryOn = false; break;
      case 1:
        if (nomem) { this.dropEntryOn = true; this.t.setInternal('drop_entry', 2); }
        else this.dropEntryOn = false;
        break;
      case 2:
        if (nomem) this.dropEntryOn = true;
        else { this.dropEntryOn = false; this.t.setInternal('drop_entry', 1); }
        break;
      case 3: this.dropEntryOn = true; break;
    }

    // drop_packet
    switch (v.drop_packet) {
      case 0: this.dropRate = 0; break;
      case 1:
        if (nomem) {
          this.dropRate = this.dropCounter = Math.floor(v.amemthresh! / (v.amemthresh! - availPages));
          this.t.setInternal('drop_packet', 2);
        } else this.dropRate = 0;
        break;
      case 2:
        if (nomem) this.dropRate = this.dropCounter = Math.floor(v.amemthresh! / (v.amemthresh! - availPages));
        else { this.dropRate = 0; this.t.setInternal('drop_packet', 1); }
        break;
      case 3: this.dropRate = v.am_droprate!; break;
    }

    // secure_tcp
    let toChange = -1;
    switch (v.secure_tcp) {
      case 0:
        if (this.oldSecureTcp >= 2) toChange = 0;
        break;
      case 1:
        if (nomem) {
          if (this.oldSecureTcp < 2) toChange = 1;
          this.t.setInternal('secure_tcp', 2);
        } else if (this.oldSecureTcp >= 2) toChange = 0;
        break;
      case 2:
        if (nomem) {
          if (this.oldSecureTcp < 2) toChange = 1;
        } else {
          if (this.oldSecureTcp >= 2) toChange = 0;
          this.t.setInternal('secure_tcp', 1);
        }
        break;
      case 3:
        if (this.oldSecureTcp < 2) toChange = 1;
        break;
    }
    this.oldSecureTcp = v.secure_tcp!;
    if (toChange >= 0) {
      const before = this.secureTable;
      this.secureTable = v.secure_tcp! > 1;
      return before !== this.secureTable;
    }
    return false;
  }

  /** ip_vs_todrop: one in every drop_rate connection-creating packets is dropped. */
  todrop(): boolean {
    if (!this.dropRate) return false;
    if (--this.dropCounter > 0) return false;
    this.dropCounter = this.dropRate;
    return true;
  }

  /** todrop_entry's rate gate: entries idle >= 60 s with 1..8 incoming packets, every k-th of k. */
  todropEntry(inPkts: number): boolean {
    if (inPkts < 1 || inPkts > 8) return false; // rate[0] == 0: never
    if (--this.entryCounter[inPkts]! > 0) return false;
    this.entryCounter[inPkts] = inPkts;
    return true;
  }

  /** Is a defense's strategy on right now (mode 2 or 3)? */
  active(name: DefenseName): boolean {
    const m = this.t.v[name]!;
    return m === 2 || m === 3;
  }
}
