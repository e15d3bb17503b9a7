// Header (always visible): virtual clock and speed, connections, conns/s, packets/s, a small memory
// bar, one badge per defense (off / armed / ACTIVE / always), and the view tabs. Under
// `lvsdeck serve` it starts with who you are (user:role) and how many others are connected.
import {Box, Text} from 'ink';
import {PAGE_SIZE} from '../src/engine/constants.js';
import {VIEWS, type ViewId} from '../src/store/session.js';
import {bytes, clock, num} from '../src/ui/format.js';
import {defenseBadge} from '../src/ui/theme.js';
import {ROLE_COLOR} from './AuditPane.js';
import {useTheme, useUi} from './context.js';

const DEFENSES = [
  ['drop_entry', 'entry'], ['drop_packet', 'packet'], ['secure_tcp', 'secure'],
] as const;

export function Header({width}: {width: number}) {
  const t = useTheme();
  const h = useUi((s) => ({
    now: s.snap?.now ?? 0, conns: s.snap?.conns ?? 0, templates: s.snap?.templates ?? 0,
    avail: s.snap?.memory.availablePages ?? 0, thresh: s.snap?.memory.amemthresh ?? 0, total: s.snap?.memory.totalPages ?? 1,
    de: s.snap?.defense.drop_entry.mode ?? 0, dp: s.snap?.defense.drop_packet.mode ?? 0, st: s.snap?.defense.secure_tcp.mode ?? 0,
    speed: s.clock.speed, paused: s.clock.paused, eff: s.clock.effective, lagging: s.clock.lagging,
    cps: s.rates.cps, inpps: s.rates.inpps, outpps: s.rates.outpps, view: s.view, readOnly: s.readOnly,
    user: s.user, role: s.role, peers: s.peers.length,
  }));
  const wide = width >= 110;
  const modes = {drop_entry: h.de, drop_packet: h.dp, secure_tcp: h.st};
  const memColor = h.avail < h.thresh ? 'red' : h.avail < h.thresh * 2 ? 'yellow' : 'green';
  const barW = wide ? 12 : 6;
  const usedFrac = 1 - h.avail / Math.max(1, h.total);
  const filled = Math.round(Math.max(0, Math.min(1, usedFrac)) * barW);
  const bar = '█'.repeat(filled) + '░'.repeat(barW - filled);
  const run = h.paused ? '⏸ PAUSED' : `▶ ×${h.speed}${h.lagging ? ` (eff ×${h.eff})` : ''}`;
  const defenseText = DEFENSES.reduce((n, [name, short]) => n + (wide ? name : short).length + 1 + defenseBadge(modes[name]).word.length + 2, 0);
  const tabs = viewTabs(VIEWS.filter((v) => v.id !== 'audit' || h.view === 'audit' || h.peers > 0), h.view, width - defenseText - 1);
  const memText = wide ? ` avail ${bytes(h.avail * PAGE_SIZE)} thr ${bytes(h.thresh * PAGE_SIZE)}` : ` ${bytes(h.avail * PAGE_SIZE)}`;
  return (
    <Box flexDirection="column" width={width} height={2}>
      <Text wrap="truncate-end">
        {h.peers > 0 ? (
          <Text>
            <Text bold color={t.c(ROLE_COLOR[h.role])}>{`${h.user}:${h.role}`}</Text>
            {h.peers > 1 ? <Text color={t.c('cyan')}>{` +${h.peers - 1}`}</Text> : null}{' '}
          </Text>
        ) : wide ? <Text bold color={t.c('cyan')}>lvsdeck </Text> : null}
        {h.readOnly ? <Text color={t.c('yellow')}>[read-only] </Text> : null}
        <Text bold>{clock(h.now)}</Text> <Text color={t.c(h.paused ? 'yellow' : h.lagging ? 'red' : 'green')}>{run}</Text>
        {'  conns '}<Text bold>{num(h.conns, !wide)}</Text>{wide && h.templates ? ` +${num(h.templates, true)} tpl` : ''}
        {'  '}<Text bold>{wide ? num(h.cps, true) : short(h.cps)}</Text>{wide ? ' conn/s  pkt/s in ' : ' c/s  pkt/s '}<Text bold>{wide ? num(h.inpps, true) : short(h.inpps)}</Text>
        {wide ? ' out ' : '/'}<Text bold>{wide ? num(h.outpps, true) : short(h.outpps)}</Text>
        {'  mem '}<Text color={t.c(memColor)}>{bar}</Text>{memText}
      </Text>
      <Text wrap="truncate-end">
        {DEFENSES.map(([name, short]) => {
          const b = defenseBadge(modes[name]);
          return (
            <Text key={name}>
              {wide ? name : short}:
              <Text color={t.c(b.color)} bold={b.strong} inverse={b.word === 'ACTIVE'}>{b.word}</Text>
              {'  '}
            </Text>
          );
        })}
        {'│'}
        {tabs.map((tab) => (
          <Text key={tab.id} inverse={tab.id === h.view} bold={tab.id === h.view}>{tab.label}</Text>
        ))}
      </Text>
    </Box>
  );
}

/**
 * The view tabs in `room` cells: full titles if they all fit, else the current view's full title
 * and the others' short names, else the others' keys alone.
 */
export function viewTabs(views: readonly {id: ViewId; key: string; title: string; short: string}[], current: ViewId, room: number): {id: ViewId; label: string}[] {
  const forms = [(v: typeof views[number]) => v.title, (v: typeof views[number]) => v.short, () => ''];
  let tabs: {id: ViewId; label: string}[] = [];
  for (const form of forms) {
    tabs = views.map((v) => {
      const name = v.id === current ? v.title : form(v);
      return {id: v.id, label: name ? ` ${v.key} ${name} ` : ` ${v.key} `};
    });
    if (tabs.reduce((n, tab) => n + tab.label.length, 0) <= room) break;
  }
  return tabs;
}

/** 1234 -> "1.2k" (narrow header). */
function short(n: number): string {
  return n >= 1000 && n < 10000 ? `${(n / 1000).toFixed(1)}k` : num(n, true);
}
