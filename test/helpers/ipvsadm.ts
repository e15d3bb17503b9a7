// An engine configured by ipvsadm command lines, for the ipvsadm tests.
import {Engine} from '../../src/engine/engine.js';
import {runIpvsadm} from '../../src/ipvsadm/exec.js';

export const words = (s: string) => s.split(' ');

/** A fresh engine after these ipvsadm commands (each must succeed). */
export function box(...cmds: string[]): Engine {
  const e = new Engine({seed: 1});
  for (const c of cmds) {
    const r = runIpvsadm(e, words(c));
    if (r.code !== 0) throw new Error(`${c}: ${r.stderr}`);
  }
  return e;
}
