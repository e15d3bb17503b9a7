// Footer (always visible): the line being typed (command bar, filter, tunable value) or the last
// message (a refusal names the role needed; another session's change shows who made it), then
// the keys of the current view.
import {Box, Text} from 'ink';
import {FOOTER_HINTS, GLOBAL_HINTS} from '../src/ui/keys.js';
import {useTheme, useUi} from './context.js';

const VIEW_HINTS: Record<string, string> = {
  ...FOOTER_HINTS, audit: 'j/k scroll the audit  g/G oldest/newest  Esc back', sync: 'm master  b backup (start/stop)',
};

const PROMPT: Record<string, string> = {command: ':', filter: 'filter /', 'log-filter': 'log filter /', tunable: ''};

export function Footer({width}: {width: number}) {
  const t = useTheme();
  const f = useUi((s) => ({input: s.input, message: s.message, view: s.view, overlay: s.overlay?.kind ?? null}));
  const color = f.message ? ({ok: 'green', error: 'red', warn: 'yellow', info: 'cyan'} as const)[f.message.kind] : undefined;
  let status;
  if (f.input) {
    const prompt = f.input.kind === 'tunable' ? `${f.input.target} = ` : PROMPT[f.input.kind];
    status = (
      <Text wrap="truncate-start">
        <Text bold color={t.c('cyan')}>{prompt}</Text>{f.input.buffer}<Text inverse> </Text>
        <Text dimColor>{f.input.kind === 'command' ? '   Enter run · Esc cancel · ↑↓ history' : '   Enter apply · Esc cancel'}</Text>
      </Text>
    );
  } else if (f.message) {
    status = <Text wrap="truncate-end" color={t.c(color!)} bold={f.message.kind === 'error'}>{f.message.kind === 'error' ? '✗ ' : ''}{f.message.text}</Text>;
  } else status = <Text> </Text>;
  const hints = f.overlay ? overlayHints(f.overlay) : ['? help', VIEW_HINTS[f.view], `${GLOBAL_HINTS}  7 who  8 sync`].filter(Boolean).join('  │  ');
  return (
    <Box flexDirection="column" width={width} height={2}>
      {status}
      <Text wrap="truncate-end" dimColor>{hints}</Text>
    </Box>
  );
}

function overlayHints(kind: string): string {
  switch (kind) {
    case 'help': return 'Esc/q/? close  j/k scroll';
    case 'confirm': return 'y yes  n/Esc no';
    case 'form': return 'type to edit  Tab/↓ next field  S-Tab/↑ previous  Enter submit  Esc cancel';
    case 'conn': return 'Esc/Enter close';
    case 'attack': return 'j/k select  Enter/space start/stop  +/- rate ×2/÷2  Esc close';
    default: return '';
  }
}
