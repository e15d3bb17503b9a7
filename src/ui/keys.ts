// Key bindings (k9s / htop / hatop conventions) and the dispatcher. The help overlay, the footer
// and docs/ui.md are generated from / kept in line with KEY_HELP.
import type {Key} from 'ink';
import {type UiSession, MAX_INPUT_CHARS, SORT_KEYS, SPEEDS, VIEWS} from '../store/session.js';
import {
  askDelete, askRemoveGenerator, cycleDefense, debugLevelStep, quiesce, rateAttack, rateGenerator, restore,
  runCommandLine, toggleAttack, toggleGenerator, toggleServerFailed, toggleSyncRole, weightStep,
} from './commands.js';
import {openAddDest, openAddService, openAddTraffic, openEditSelected, openTrafficRate, submitForm} from './forms.js';

export const KEY_HELP: {section: string; keys: [string, string][]}[] = [
  {section: 'Everywhere', keys: [
    ['?', 'this help'], ['q  Ctrl-C', 'quit'], ['Esc', 'back / close / cancel'],
    ['1..6  Tab  S-Tab', 'views: Dashboard Services Connections Tunables Attacks/Traffic Log'],
    ['7  8', 'who is connected and the audit trail; connection sync daemons'],
    [':', 'command bar: ipvsadm syntax, sysctl -w name=value, attack ..., speed X (↑/↓ history)'],
    ['e  p  s', 'cycle drop_entry / drop_packet / secure_tcp: off → armed (auto) → always → off'],
    ['a', 'attack menu: start/stop each flood, +/- its rate'],
    ['space', 'pause / resume virtual time'], ['.', 'step one virtual second (while paused)'],
    ['<  >', 'slower / faster virtual time (×0.1 … ×1000)'],
    ['j k  ↑ ↓', 'move'], ['g G  Home End', 'first / last'], ['PgUp PgDn', 'page'],
  ]},
  {section: 'Services', keys: [
    ['+  -', 'weight of the selected real server ±1'], ['z', 'quiesce (weight 0)'], ['r', 'restore last weight'],
    ['d', 'delete service / real server (asks)'], ['Enter', 'edit service / real server'],
    ['n', 'add a real server to the selected service'], ['N', 'add a virtual service'],
    ['x', 'real server stops answering / answers again'],
  ]},
  {section: 'Connections', keys: [
    ['/', 'filter: address, addr:port, port, tcp/udp, state (SYN_RECV…), rs=ADDR:PORT, tpl, !tpl'],
    ['P C V R S E I O', 'sort by proto, client, virtual, real, state, expires, in, out (again: reverse)'],
    ['t', 'templates: shown / hidden / only'], ['Enter', 'entry details (flags, counters, timers, trace)'],
  ]},
  {section: 'Tunables', keys: [
    ['Enter', 'edit the value in place (Enter writes, Esc cancels)'], ['+  -', 'debug_level up / down'],
  ]},
  {section: 'Attacks/Traffic', keys: [
    ['Enter  t', 'start / stop the selected generator'], ['+  -', 'rate ×2 / ÷2'], ['r', 'set rate'],
    ['n', 'new generator'], ['d', 'remove generator (asks)'],
  ]},
  {section: 'Log', keys: [
    ['f', 'follow / pause'], ['l', 'cycle max level shown'], ['/', 'filter text'], ['+  -', 'debug_level up / down'],
  ]},
  {section: 'Sync', keys: [
    ['m  b', 'start / stop the master / backup sync daemon (admin; :--start-daemon ROLE --syncid N for options)'],
  ]},
];

/** Short hints for the footer, per view. */
export const FOOTER_HINTS: Record<string, string> = {
  dashboard: '',
  services: '+/- weight  z quiesce  r restore  d delete  Enter edit  n add RS  N add svc  x fail',
  conns: '/ filter  P C V R S E I O sort  t templates  Enter details',
  tunables: 'Enter edit  +/- debug_level',
  traffic: 'Enter start/stop  +/- rate  r rate  n new  d remove',
  log: 'f follow  l level  / filter  +/- debug_level',
};
export const GLOBAL_HINTS = 'q quit  1-6 views  : cmd  e/p/s defenses  a attack  space pause  </> speed';

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false,
  end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false,
  meta: false, super: false, hyper: false, capsLock: false, numLock: false,
} as Key;

/** The Key record Ink would give a single character. */
export function charKey(ch: string): Key {
  return {
    ...NO_KEY, return: ch === '\r' || ch === '\n', tab: ch === '\t', delete: ch === '\x7f', backspace: ch === '\x08',
    shift: ch.length === 1 && ch >= 'A' && ch <= 'Z',
  };
}

const printable = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '');

/** Handle one useInput event. Printable runs are split into single keys outside of text entry. */
export function handleKey(session: UiSession, input: string, key: Key): void {
  const s = session.state;
  // A chunk of several keys in one read (fast typing, tmux send-keys, paste): one key at a time,
  // control characters turned into their keys, so "10<Enter>" types 10 and then commits.
  // (by code point: one emoji is two UTF-16 units and must not be split again, forever)
  const chars = input.length > 1 ? [...input] : null;
  if (chars && chars.length > 1 && !key.ctrl && !key.meta && !input.startsWith('\x1b')) {
    const typing = s.input !== null || s.overlay?.kind === 'form';
    if (!typing || /[\r\n\t\x7f\x08]/.test(input)) {
      for (const ch of chars) handleKey(session, ch === '\n' ? '\r' : ch, charKey(ch));
      return;
    }
  }
  if (key.ctrl && input === 'c') { session.requestQuit(); return; }
  if (s.input) return lineInputKey(session, input, key);
  if (s.overlay) return overlayKey(session, input, key);
  if (globalKey(session, input, key)) return;
  viewKey(session, input, key);
}

function isBackspace(key: Key) {
  return key.backspace || key.delete;
}

function lineInputKey(session: UiSession, input: string, key: Key): void {
  const i = session.state.input!;
  if (key.escape) { session.cancelInput(); return; }
  if (key.return) {
    const text = i.buffer;
    session.cancelInput();
    switch (i.kind) {
      case 'command': runCommandLine(session, text); break;
      case 'filter': session.setConnFilter(text.trim()); break;
      case 'log-filter': session.setLogFilter(text.trim()); break;
      case 'tunable': session.writeTunable(i.target!, text.trim()); break;
    }
    return;
  }
  if (isBackspace(key)) { session.editInput((b) => [...b].slice(0, -1).join('')); return; }
  if (i.kind === 'command' && key.upArrow) { session.historyStep(1); return; }
  if (i.kind === 'command' && key.downArrow) { session.historyStep(-1); return; }
  if (key.ctrl && input === 'u') { session.editInput(() => ''); return; }
  const text = printable(input);
  if (text && !key.ctrl && !key.meta) session.editInput((b) => b + text);
}

function overlayKey(session: UiSession, input: string, key: Key): void {
  const o = session.state.overlay!;
  switch (o.kind) {
    case 'help':
      if (key.escape || input === 'q' || input === '?' || key.return) session.closeOverlay();
      else navKey(session, input, key);
      return;
    case 'confirm':
      if (input === 'y' || input === 'Y') { session.closeOverlay(); session.apply(o.op); }
      else if (input === 'n' || input === 'N' || key.escape || input === 'q') { session.closeOverlay(); session.say('cancelled'); }
      return;
    case 'conn':
      if (key.escape || key.return || input === 'q') session.closeOverlay();
      return;
    case 'attack':
      if (key.escape || input === 'a' || input === 'q') session.closeOverlay();
      else if (key.return || input === ' ' || input === 't') toggleAttack(session, o.sel);
      else if (input === '+' || input === '=') rateAttack(session, o.sel, 2);
      else if (input === '-') rateAttack(session, o.sel, 0.5);
      else navKey(session, input, key);
      return;
    case 'form': {
      const f = o.form;
      const setForm = (nf: typeof f) => session.store.setState({overlay: {kind: 'form', form: nf}});
      if (key.escape) { session.closeOverlay(); session.say('cancelled'); return; }
      if (key.return) { submitForm(session); return; }
      if (key.tab && !key.shift || key.downArrow) { setForm({...f, focus: (f.focus + 1) % f.fields.length}); return; }
      if ((key.tab && key.shift) || key.upArrow) { setForm({...f, focus: (f.focus - 1 + f.fields.length) % f.fields.length}); return; }
      const fields = f.fields.slice();
      const cur = fields[f.focus]!;
      if (isBackspace(key)) fields[f.focus] = {...cur, value: [...cur.value].slice(0, -1).join('')};
      else if (key.ctrl && input === 'u') fields[f.focus] = {...cur, value: ''};
      else {
        const text = printable(input);
        if (!text || key.ctrl || key.meta) return;
        fields[f.focus] = {...cur, value: (cur.value + text).slice(0, MAX_INPUT_CHARS)};
      }
      setForm({...f, fields, error: null});
      return;
    }
  }
}

/** Movement keys shared by every list. */
function navKey(session: UiSession, input: string, key: Key): boolean {
  if (key.downArrow || input === 'j') session.move(1);
  else if (key.upArrow || input === 'k') session.move(-1);
  else if (key.pageDown || (key.ctrl && input === 'f')) session.move('pageDown');
  else if (key.pageUp || (key.ctrl && input === 'b')) session.move('pageUp');
  else if (key.home || input === 'g') session.move('top');
  else if (key.end || input === 'G') session.move('bottom');
  else return false;
  return true;
}

function globalKey(session: UiSession, input: string, key: Key): boolean {
  if (key.tab) { session.cycleView(key.shift ? -1 : 1); return true; }
  if (key.escape) {
    if (session.state.view !== 'dashboard') session.setView('dashboard');
    return true;
  }
  if (key.ctrl || key.meta) return navKey(session, input, key);
  const v = VIEWS.find((x) => x.key === input);
  if (v) { session.setView(v.id); return true; }
  switch (input) {
    case 'q': session.requestQuit(); return true;
    case '?': session.openOverlay({kind: 'help', scroll: 0}); return true;
    case ':': session.beginInput('command'); return true;
    case 'e': cycleDefense(session, 'drop_entry'); return true;
    case 'p': cycleDefense(session, 'drop_packet'); return true;
    case 's': cycleDefense(session, 'secure_tcp'); return true;
    case 'a': session.openOverlay({kind: 'attack', sel: 0, target: ''}); return true;
    case ' ': session.apply({op: 'pause', paused: !session.state.clock.paused}); return true;
    case '.': session.apply({op: 'step', ms: 1000}); return true;
    case '<': case ',': speedStep(session, -1); return true;
    case '>': speedStep(session, 1); return true;
  }
  return navKey(session, input, key);
}

function speedStep(session: UiSession, dir: 1 | -1): void {
  const cur = session.state.clock.speed;
  const next = dir > 0
    ? SPEEDS.find((x) => x > cur + 1e-9) ?? SPEEDS[SPEEDS.length - 1]!
    : [...SPEEDS].reverse().find((x) => x < cur - 1e-9) ?? SPEEDS[0]!;
  session.apply({op: 'speed', speed: next});
}

function viewKey(session: UiSession, input: string, key: Key): void {
  const s = session.state;
  switch (s.view) {
    case 'services':
      if (input === '+' || input === '=') weightStep(session, 1);
      else if (input === '-') weightStep(session, -1);
      else if (input === 'z') quiesce(session);
      else if (input === 'r') restore(session);
      else if (input === 'd') askDelete(session);
      else if (key.return) openEditSelected(session);
      else if (input === 'n') openAddDest(session);
      else if (input === 'N') openAddService(session);
      else if (input === 'x') toggleServerFailed(session);
      return;
    case 'conns':
      if (input === '/') session.beginInput('filter', s.conns.filter);
      else if (SORT_KEYS[input]) session.setConnSort(input);
      else if (input === 't') session.cycleTemplates();
      else if (key.return) session.openConnDetail();
      return;
    case 'tunables': {
      const row = s.tun.rows[s.tun.sel];
      if (key.return && row) session.beginInput('tunable', row.value.replace(/\t/g, ' '), row.name);
      else if (input === '+' || input === '=') debugLevelStep(session, 1);
      else if (input === '-') debugLevelStep(session, -1);
      return;
    }
    case 'traffic': {
      if (key.return || input === 't') toggleGenerator(session);
      else if (input === '+' || input === '=') rateGenerator(session, 2);
      else if (input === '-') rateGenerator(session, 0.5);
      else if (input === 'r') {
        const g = s.traffic.rows[s.traffic.sel];
        if (g) openTrafficRate(session, g.id, g.rate);
      } else if (input === 'n') openAddTraffic(session);
      else if (input === 'd') askRemoveGenerator(session);
      return;
    }
    case 'sync':
      if (input === 'm') toggleSyncRole(session, 'master');
      else if (input === 'b') toggleSyncRole(session, 'backup');
      return;
    case 'log':
      if (input === 'f') session.toggleFollow();
      else if (input === 'l') session.cycleLogLevel();
      else if (input === '/') session.beginInput('log-filter', s.log.filter);
      else if (input === '+' || input === '=') debugLevelStep(session, 1);
      else if (input === '-') debugLevelStep(session, -1);
      return;
    default:
      return;
  }
}
