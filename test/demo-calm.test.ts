// The default demo is a healthy director: its normal clients leave clear headroom above amemthresh
// and never engage a defense (update_defense_level, ip_vs_ctl.c, only acts below amemthresh);
// the attack menu's SYN flood is what pushes available memory under it, within seconds.
import {describe, expect, it} from 'vitest';
import {buildDemo} from '../src/demo/default-config.js';
import {SECOND} from '../src/engine/constants.js';
import {ATTACK_DEFAULT_RATE} from '../src/store/session.js';

const anyActive = (d: Record<string, {active: boolean}>) => Object.values(d).some((x) => x.active);

describe('the default demo (seed 1)', () => {
  it('400 s of normal traffic: available memory stays >= 40 % of the free memory above amemthresh; no defense is ever ACTIVE', () => {
    const sim = buildDemo();
    const e = sim.engine;
    const free = e.snapshot().memory.availablePages;
    let minHeadroom = Infinity, activeAt: number | null = null;
    for (let t = SECOND; t <= 400 * SECOND; t += SECOND) {
      sim.runUntil(t);
      const s = e.snapshot();
      minHeadroom = Math.min(minHeadroom, (s.memory.availablePages - s.memory.amemthresh) / free);
      if (activeAt === null && anyActive(s.defense)) activeAt = t;
    }
    expect(activeAt).toBeNull();
    expect(minHeadroom).toBeGreaterThanOrEqual(0.4);
    // the traffic is real: thousands of live entries in steady state, not an idle director
    expect(e.snapshot().conns).toBeGreaterThan(10_000);
  });

  it("the attack menu's SYN flood (its default rate) takes memory under amemthresh and a defense ACTIVE within 15 s", () => {
    const sim = buildDemo();
    const e = sim.engine;
    sim.runUntil(200 * SECOND); // steady state of the normal clients
    expect(anyActive(e.snapshot().defense)).toBe(false);
    sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: ATTACK_DEFAULT_RATE.synflood!});
    let activeAfter: number | null = null;
    for (let t = 1; t <= 15 && activeAfter === null; t++) {
      sim.runUntil(200 * SECOND + t * SECOND);
      const s = e.snapshot();
      if (anyActive(s.defense)) {
        activeAfter = t;
        expect(s.memory.availablePages).toBeLessThan(s.memory.amemthresh * 2); // it got there by draining memory
      }
    }
    expect(activeAfter).not.toBeNull();
  });
});
