// `lvsdeck [COMMAND] ARGS...`: dispatch to a subcommand; with none, open the live demo.
import {COMMANDS} from './commands.js';

export async function main(argv: string[]): Promise<number> {
  // `lvsdeck ... | head` closes our stdout early: that ends the output, it is not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    const lines = ['usage: lvsdeck [COMMAND] [ARGS...]', '', 'commands:'];
    for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${(await load()).usage}`);
    lines.push('', 'With no command, lvsdeck runs the live demo on an embedded default configuration.');
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  if (first !== undefined && !first.startsWith('-')) {
    const load = COMMANDS[first];
    if (!load) {
      process.stderr.write(`lvsdeck: unknown command '${first}' (try lvsdeck --help)\n`);
      return 2;
    }
    return (await load()).run(rest);
  }
  const fallback = COMMANDS.ui ?? COMMANDS.demo!;
  return (await fallback()).run(argv);
}
