// Transmit, as ip_vs_xmit.c: the forwarding decision an entry's method leads to, with the
// path-MTU check (pmtu_disc) and the ICMP errors the director sends, written into the reused verdict.
import {CONN_F} from './constants.js';
import type {Dest, Packet, Verdict, VerdictReason} from './types.js';
import {IpvsCtl} from './ctl.js';

export abstract class IpvsXmit extends IpvsCtl {
  protected setVerdict(action: Verdict['action'], reason: VerdictReason, conn = -1, dest: Dest | null = null): Verdict {
    const v = this.verdict;
    v.action = action;
    v.reason = reason;
    v.conn = conn >= 0 ? this.table.idOf(conn) : -1;
    v.dest = dest;
    if (action === 'drop') this.counters.dropped.set(reason, (this.counters.dropped.get(reason) ?? 0) + 1);
    else if (action === 'accept') this.counters.accepted.set(reason, (this.counters.accepted.get(reason) ?? 0) + 1);
    return v;
  }

  protected resetVerdict(): void {
    this.verdict.created = false;
    this.verdict.icmpSent = null;
  }

  /** The entry's forwarding decision, with the pmtu_disc check of ip_vs_xmit.c. */
  protected transmit(cp: number, p: Packet, dest: Dest | null): Verdict {
    const fwd = this.table.flagsOf(cp) & CONN_F.FWD_MASK;
    if (fwd === CONN_F.BYPASS) return this.setVerdict('bypass', '', cp, null);
    const overhead = fwd === CONN_F.TUNNEL ? (this.table.daf(cp) === 6 ? 40 : 20) : 0;
    if (p.len + overhead > this.mtu) {
      const mayFragment = fwd === CONN_F.TUNNEL && !this.tunables.v.pmtu_disc;
      if (p.df && !mayFragment) {
        this.sendIcmp(p.af === 4 ? 3 : 2, p.af === 4 ? 4 : 0);
        return this.setVerdict('drop', 'frag-needed', cp, dest);
      }
    }
    return this.setVerdict('forward', '', cp, dest);
  }

  protected sendIcmp(type: number, code: number): void {
    this.verdict.icmpSent = {type, code};
    this.counters.icmpSent++;
  }
}
