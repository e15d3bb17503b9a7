// Key sequences into a session UI, as an ssh client can send them: view and action keys, typed
// commands, escape sequences, any Key flags, control characters and megabyte-class pastes, for
// each role; a paste arrives in the pieces the server's input throttle hands over. Invariants checked per case: no exception escapes handleKey, a line input never
// holds more than MAX_INPUT_CHARS, the audit view stays bounded, and a reader's keys never change
// the configuration (ipvsadm -Sn and the tunables).
import {MAX_INPUT_CHARS} from '../../../src/store/session.js';
import {handleKey} from '../../../src/ui/keys.js';
import {type Rng, chance, int} from '../mutate.js';
import {keyEvents, sessionWorld} from '../ssh-input.js';

export default {
  name: 'ssh-session-keys',
  // '.' steps the demo's traffic by a virtual second (a few hundred ms of CPU), and a case may press
  // it several times: on a loaded machine such a case ran past 2 s twice without being stuck
  caseLimitMs: 10_000,
  run(rng: Rng): void {
    const w = sessionWorld(rng);
    const before = w.role === 'reader' ? w.config() : '';
    for (const ev of keyEvents(rng)) {
      handleKey(w.session, ev.input, ev.key);
      const input = w.session.state.input;
      if (input && input.buffer.length > MAX_INPUT_CHARS) throw new Error(`line input grew to ${input.buffer.length} characters`);
      if (chance(rng, 0.05)) {
        w.sim.advance(int(rng, 50));
        w.session.refresh();
      }
    }
    if (w.audit.list().length > 1200) throw new Error(`audit view holds ${w.audit.list().length} entries`);
    if (w.role === 'reader' && w.config() !== before) throw new Error('a reader changed the configuration');
    w.session.stop();
  },
};
