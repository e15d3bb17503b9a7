// `lvsdeck [COMMAND] ARGS...`: dispatch to a subcommand; with none, open the live demo.
// Help and usage errors come from the command specs alone: no command module is loaded for them.
import {formatHelp, parseCommandArgs, UsageError} from './args.js';
import {COMMANDS} from './commands.js';

function globalHelp(): string {
  const lines = ['usage: lvsdeck [COMMAND] [ARGS...]', '', 'commands:'];
  for (const [name, {spec}] of COMMANDS) lines.push(`  ${name.padEnd(10)} ${spec.summary}`);
  lines.push('', 'With no command, lvsdeck runs the live UI on the embedded demo (see lvsdeck ui --help).',
    'lvsdeck COMMAND --help describes a command.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  // `lvsdeck ... | head` closes our stdout early: that ends the output, it is not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(globalHelp());
    return 0;
  }
  let name = 'ui', args = argv;
  if (first !== undefined && !first.startsWith('-')) {
    if (!COMMANDS.has(first)) {
      process.stderr.write(`lvsdeck: unknown command '${first}' (try lvsdeck --help)\n`);
      return 2;
    }
    name = first;
    args = rest;
  }
  const command = COMMANDS.get(name)!;
  if (!command.spec.passthrough) {
    try {
      if (parseCommandArgs(command.spec, args).help) {
        process.stdout.write(formatHelp(command.spec));
        return 0;
      }
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`lvsdeck ${name}: ${err.message}\n`);
      return 2;
    }
  }
  return (await command.load()).run(args);
}
