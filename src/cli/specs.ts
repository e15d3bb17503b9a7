// The command-line spec of every subcommand: parsed by src/cli/args.ts, and the source of each
// command's --help. Kept free of runtime imports so that help costs no engine or UI loading.
import type {CommandSpec, OptionSpec} from './args.js';

/** Backups accept sync datagrams only from these senders (lvsdeck sync, and the --sync flags of ui and serve). */
const SYNC_ALLOW_OPTION: OptionSpec = {
  name: 'sync-allow', value: 'ADDR[/N]', multiple: true,
  help: 'backup: accept sync datagrams only from this sender address or block\n(repeatable; default: any sender, as the kernel)',
};

const CAPTURE_OUT_OPTION: OptionSpec = {
  name: 'capture-out', value: 'FILE',
  help: 'write every packet the engine sees to FILE (.pcapng: with verdict comments;\notherwise pcap, drops listed in FILE.drops); lvsdeck replay reads it back',
};

/** The sync flags of the long-running commands (ui, serve). */
export const SYNC_HOST_OPTIONS: OptionSpec[] = [
  {name: 'sync', value: 'ROLE', multiple: true, help: 'start a connection-sync daemon: master or backup (repeatable)'},
  {name: 'sync-peer', value: 'HOST:PORT', help: 'sync over unicast UDP to/from HOST:PORT instead of multicast 224.0.0.81:8848'},
  {name: 'mcast-interface', value: 'IF', help: 'interface for multicast sync (default eth0, as ipvsadm)'},
  {name: 'syncid', value: 'N', help: 'sync id (0..255) for --sync'},
  SYNC_ALLOW_OPTION,
];

/** Observability of the long-running commands and replays (read by src/metrics/cli.ts). */
export const OBSERVE_OPTIONS: OptionSpec[] = [
  {name: 'metrics', value: 'ADDR:PORT', help: 'serve Prometheus metrics and the JSON API (docs/metrics.md); loopback only\nunless --metrics-public; port 0 picks a free one (printed on stderr)'},
  {name: 'metrics-public', help: 'allow a --metrics address that is not loopback (no authentication!)'},
  CAPTURE_OUT_OPTION,
];

/** Options that choose what the engine starts from (ui, serve). */
const SETUP_OPTIONS: OptionSpec[] = [
  {name: 'config', value: 'FILE', help: 'start from a scenario file (YAML) or an ipvsadm-save file instead of the demo'},
  {name: 'seed', value: 'N', help: 'random seed of the simulation (default 1)'},
  {name: 'speed', value: 'X', help: 'virtual seconds per wall second at start (default 1)'},
];

/** What the UI runs over (ui, serve): the simulation by default, or something real. src/cli/backend-args.ts reads them. */
const BACKEND_OPTIONS: OptionSpec[] = [
  {name: 'dataplane', value: 'tun', help: 'balance real traffic: a TUN device, NAT on real packets, wall-clock time\n(needs root; with `lvsdeck lab up` the device joins the lab; see docs/dataplane.md)'},
  {name: 'dev', value: 'NAME', help: 'TUN device name for --dataplane (default lvs-tun0)'},
  {name: 'kernel', help: "operate this host's kernel IPVS instead of the simulation (docs/kernel.md);\nread-only unless --allow-writes"},
  {name: 'allow-writes', help: 'with --kernel: changes go to the running kernel (needs root)'},
];

const MEMORY_OPTION: OptionSpec = {
  name: 'memory', value: 'SIZE',
  help: "simulated host memory (e.g. 512MiB; default: the demo's host);\nwith --dataplane, `host` uses the machine's own available memory",
};

export const DEMO_SPEC: CommandSpec = {
  name: 'demo',
  summary: 'run the embedded demo headless: [--for 30s] [--every 5s] [--synflood RATE]',
  usage: 'lvsdeck demo [options]',
  about: 'Runs the embedded demo (the services and client traffic the live UI starts with) on virtual\n' +
    'time, without a screen, and prints a status line every --every and a summary at the end.\n' +
    'On a terminal a progress line on stderr shows how far the run is.',
  options: [
    {name: 'for', value: 'TIME', help: 'virtual time to run (e.g. 400s, 10m; default 30s)'},
    {name: 'every', value: 'TIME', help: 'status line period (default 5s)'},
    {name: 'synflood', value: 'RATE', help: 'add a SYN flood of RATE packets/s against 10.0.0.1:80 (default none)'},
    {name: 'seed', value: 'N', help: 'random seed of the simulation (default 1)'},
  ],
};

export const UI_SPEC: CommandSpec = {
  name: 'ui',
  summary: 'the live UI: [--config FILE] [--replay FILE.pcap] [--memory 512MiB] [--seed N] [--speed X] [--fps N] [--mono] [--metrics ADDR:PORT] ...',
  usage: 'lvsdeck [ui] [options]',
  about: 'Opens the live terminal UI on the embedded demo (three virtual services with steady client\n' +
    'traffic on virtual time), or on your own setup with --config.',
  options: [
    ...SETUP_OPTIONS,
    MEMORY_OPTION,
    {name: 'fps', value: 'N', help: 'UI refresh rate, 1..30 (default 10)'},
    {name: 'mono', help: 'no colours (also when NO_COLOR is set)'},
    {name: 'read-only', help: 'watch only: every change is refused'},
    ...SYNC_HOST_OPTIONS,
    ...BACKEND_OPTIONS,
    {name: 'replay', value: 'FILE', help: 'feed a capture (pcap/pcapng) into the engine on its own timestamps, from now on\n(see lvsdeck replay --help; --config sets the director up for it)'},
    ...OBSERVE_OPTIONS,
    {name: 'no-alt-screen', help: 'draw in the normal screen (debugging)'},
    {name: 'perf-file', value: 'FILE', hidden: true, help: 'write frame timings here on exit (bench/)'},
    {name: 'quit-after', value: 'SECONDS', hidden: true, help: 'quit after SECONDS of wall time (bench/)'},
  ],
  footer: 'Keys: press ? in the app.',
};

export const RUN_SPEC: CommandSpec = {
  name: 'run',
  summary: 'run a scenario file headless: FILE [--until 90s] [--json] [--trace] [--packets] [--max-conns N] [--capture-out F]',
  usage: 'lvsdeck run FILE [options]   (FILE - reads standard input)',
  about: 'Runs a scenario (YAML, see docs/scenario-format.md) on virtual time and prints its report items\n' +
    'exactly as ipvsadm, sysctl and procfs print them. On a terminal a progress line on stderr shows\n' +
    'how far a long run is.',
  options: [
    {name: 'until', value: 'TIME', help: "end of the run (e.g. 90s, 2m, 1500ms); default: the scenario's until:,\nelse the time of the last event"},
    {name: 'json', help: 'print one JSON document (schema lvsdeck.run/1) instead of the report text'},
    {name: 'trace', help: 'one line per packet: what the engine did and why (in the JSON: "trace")'},
    {name: 'packets', help: 'with --json: per-packet verdict records ("packets")'},
    {name: 'max-conns', value: 'N', help: 'with --json: list at most N connection entries (all by default)'},
    CAPTURE_OUT_OPTION,
  ],
  positionals: {min: 1, max: 1},
};

export const SYNC_SPEC: CommandSpec = {
  name: 'sync',
  summary: 'run a sync daemon: master|backup [--sync-peer HOST:PORT] [--syncid N] [--demo] [--traffic JSON] [--for DUR] ...',
  usage: 'lvsdeck sync master|backup [options]',
  about: 'Runs a headless engine with one sync daemon role over UDP, in real time.',
  options: [
    {name: 'sync-peer', value: 'HOST:PORT', help: 'unicast: the master sends to, the backup listens on HOST:PORT\n(thread i uses PORT+i); without it, multicast on the group'},
    {name: 'syncid', value: 'N', help: 'sync id 0..255 (backup: 0 accepts every master; default 0)'},
    SYNC_ALLOW_OPTION,
    {name: 'mcast-interface', value: 'IF', help: 'multicast interface (default eth0)'},
    {name: 'mcast-group', value: 'ADDR', help: 'multicast group (default 224.0.0.81)'},
    {name: 'mcast-port', value: 'N', help: 'first UDP port (default 8848)'},
    {name: 'mcast-ttl', value: 'N', help: 'multicast TTL (default 1)'},
    {name: 'sync-maxlen', value: 'N', help: 'message size limit (0 = kernel default; default 0)'},
    {name: 'demo', help: 'the demo services; the master also runs the demo traffic'},
    {name: 'demo-services', help: 'the demo services only (a backup binds entries to them)'},
    {name: 'traffic', value: 'JSON', multiple: true, help: 'add a traffic generator (repeatable), e.g.\n\'{"kind":"clients","to":"10.0.0.1:80","rate":50}\''},
    {name: 'sysctl', value: 'NAME=VALUE', multiple: true, help: 'set a tunable first, e.g. sync_version=0 (repeatable)'},
    {name: 'status-every', value: 'TIME', help: 'status line period, 0 = none (default 1s)'},
    {name: 'list-conns', help: 'print the connection list with each status line'},
    {name: 'for', value: 'TIME', help: 'stop after TIME (default: until SIGINT/SIGTERM)'},
    {name: 'speed', value: 'X', help: 'virtual time per wall time (default 1)'},
    {name: 'seed', value: 'N', help: 'traffic seed (default 1)'},
    {name: 'control', help: 'answer stdin commands with JSON lines:\nstatus | conns | traffic stop|start | sysctl NAME VALUE | quit'},
    ...OBSERVE_OPTIONS,
  ],
  positionals: {min: 1, max: 1},
};

export const SERVE_SPEC: CommandSpec = {
  name: 'serve',
  summary: 'serve the live UI over ssh: --ssh ADDR:PORT --host-key FILE --authorized-keys FILE [--console] ...',
  usage: 'lvsdeck serve --host-key FILE --authorized-keys FILE [options]',
  about: 'Runs one engine (the demo, or --config; real traffic with --dataplane tun; or the host kernel\'s\n' +
    'IPVS with --kernel) and serves its live UI over ssh: each operator connects with\n' +
    '`ssh -t -p PORT any@HOST` and gets a UI session of their own on the shared backend. Public-key\n' +
    "authentication only; each key's role (reader, operator, admin) comes from its authorized_keys line:\n\n" +
    '  environment="LVSDECK_ROLE=operator" ssh-ed25519 AAAA... alice\n\n' +
    "(missing or unknown role = reader; the name shown is LVSDECK_USER or the key's comment).\n" +
    'Every change is audited (--audit-file, JSON lines). `ssh HOST ipvsadm -Ln` and a few other\n' +
    'read-only listings work without a terminal (`ssh HOST help`). With --kernel every session is\n' +
    'read-only unless the server runs with --allow-writes (as root); even then a change needs the role.',
  options: [
    {name: 'ssh', value: 'ADDR:PORT', help: 'listen address (default 127.0.0.1:2222; port 0 picks a free one)'},
    {name: 'host-key', value: 'FILE', help: "the server's private key; generated (ed25519, mode 0600) if missing"},
    {name: 'authorized-keys', value: 'FILE', help: 'keys allowed in, one per line, with their role (re-read when it changes)'},
    {name: 'audit-file', value: 'FILE', help: 'JSON lines: changes, refusals, logins, failed logins\n(default: lvsdeck-audit.jsonl next to the host key)'},
    {name: 'status-file', value: 'FILE', help: 'keep a JSON status here (listen port, sessions, counters, CPU)'},
    {name: 'log-file', value: 'FILE', help: "append the server's log lines here (default: stderr; none with --console)"},
    {name: 'console', help: 'also run the UI on this terminal, as admin; quitting it stops the server'},
    ...SETUP_OPTIONS,
    MEMORY_OPTION,
    ...BACKEND_OPTIONS,
    {name: 'fps', value: 'N', help: 'UI refresh rate per session, 1..30 (default 10)'},
    {name: 'mono', help: 'no colours'},
    {name: 'max-sessions', value: 'N', help: 'UI sessions at once, console included (default 16)'},
    {name: 'max-per-key', value: 'N', help: 'UI sessions at once per key (default 4)'},
    {name: 'max-conns', value: 'N', help: 'TCP connections at once, authenticated or not (default 64)'},
    {name: 'max-startups', value: 'N', help: 'unauthenticated connections at once (default: half of --max-conns, at\nmost 16); when full, the oldest one still idle makes room'},
    {name: 'per-source-startups', value: 'N', help: 'unauthenticated connections at once from one address (default 4)'},
    {name: 'preauth-timeout', value: 'SECONDS', help: 'time from TCP accept to the first authentication request (default 10)'},
    {name: 'auth-tries', value: 'N', help: 'rejected attempts per connection before it is closed (default 6)'},
    {name: 'auth-burst', value: 'N', help: 'failed logins per address before it is blocked (default 10)'},
    {name: 'auth-refill', value: 'SECONDS', help: 'one failed login forgiven every SECONDS (default 30)'},
    {name: 'auth-cooldown', value: 'SECONDS', help: 'how long a blocked address is refused (default 60)'},
    {name: 'login-grace', value: 'SECONDS', help: 'time to authenticate (default 20)'},
    {name: 'no-exec', help: 'refuse exec requests (no listings without the UI)'},
    ...SYNC_HOST_OPTIONS,
    ...OBSERVE_OPTIONS,
  ],
};

const STATE_OPTIONS: OptionSpec[] = [
  {name: 'state', value: 'FILE', help: 'the saved configuration (default: $XDG_CONFIG_HOME/lvsdeck/state.json, else ~/.config/lvsdeck/state.json)'},
  {name: 'director', help: "as the first argument: the running data plane's live engine instead (docs/dataplane.md)"},
  {name: 'kernel', help: "as the first argument: this host's kernel IPVS instead (docs/kernel.md)"},
];

export const IPVSADM_SPEC: CommandSpec = {
  name: 'ipvsadm',
  summary: 'ipvsadm syntax on the saved configuration: [--state FILE | --director | --kernel] -A/-a/-L/-S/-R ... (see -h)',
  usage: 'lvsdeck ipvsadm [--state FILE | --director | --kernel] IPVSADM-ARGS...',
  options: STATE_OPTIONS,
  passthrough: true,
};

export const SYSCTL_SPEC: CommandSpec = {
  name: 'sysctl',
  summary: 'sysctl for net.ipv4.vs.*: [--state FILE | --director | --kernel] -a | NAME | -w NAME=VALUE',
  usage: 'lvsdeck sysctl [--state FILE | --director | --kernel] SYSCTL-ARGS...',
  options: STATE_OPTIONS,
  passthrough: true,
};

export const LAB_SPEC: CommandSpec = {
  name: 'lab',
  summary: 'network-namespace lab for --dataplane tun: up [--servers N] | down | status',
  usage: 'lvsdeck lab up [--servers N] | down | status',
  about: 'Creates (up), removes (down) or shows (status) the network namespaces the real data plane\n' +
    '(lvsdeck ui --dataplane tun) balances to: clients and real servers on lab addresses. Needs root;\n' +
    'see docs/dataplane.md.',
  options: [{name: 'servers', value: 'N', help: 'with up: how many real servers (default 3)'}],
  positionals: {min: 1, max: 1},
};

export const REPLAY_SPEC: CommandSpec = {
  name: 'replay',
  summary: 'feed a capture into the engine: FILE.pcap|FILE.pcapng [--config F] [--speed X|--as-fast-as-possible] [--json]',
  usage: 'lvsdeck replay FILE.pcap|FILE.pcapng [options]',
  about: 'Feeds the packets of a capture (pcap or pcapng; Ethernet with VLAN tags, Linux cooked v1/v2,\n' +
    "raw IP, BSD loopback; IPv4/IPv6; TCP, UDP, SCTP, ICMP) into the engine on the capture's own\n" +
    "timestamps, the first packet at virtual time 0, each in the direction a scenario's packets take.\n" +
    "Prints the same reports as lvsdeck run: the config's report: items, else ipvsadm -Ln --stats and\n" +
    'ipvsadm -Lnc at the end. A summary of what was read goes to stderr.',
  options: [
    {name: 'config', value: 'FILE', help: 'director setup: a scenario file (sysctl, rules, report, actions...) or an\nipvsadm-save file'},
    {name: 'speed', value: 'X', help: "pace the replay at X times the capture's speed in wall time (with --metrics:\nwatch it live)"},
    {name: 'as-fast-as-possible', help: 'no pacing (the default)'},
    {name: 'until', value: 'TIME', help: 'end of the run (virtual time), default: the last packet'},
    {name: 'json', help: 'one JSON document (schema lvsdeck.run/1) instead of the report text'},
    {name: 'trace', help: 'one line per packet: what the engine did and why'},
    {name: 'packets', help: 'with --json: per-packet verdict records'},
    {name: 'max-conns', value: 'N', help: 'with --json: list at most N connection entries'},
    {name: 'max-packets', value: 'N', help: 'refuse captures with more than N packets (default 100000000)'},
    {name: 'keep-outgoing', help: "also feed packets the capturing host sent (dropped by default: a director's\nown transmissions are not its input)"},
    {name: 'no-progress', help: 'no progress bar (it is shown on stderr when stderr is a terminal)'},
    ...OBSERVE_OPTIONS,
  ],
  positionals: {min: 1, max: 1},
};

/** In the order `lvsdeck --help` lists them. */
export const COMMAND_SPECS: readonly CommandSpec[] = [DEMO_SPEC, SYNC_SPEC, UI_SPEC, IPVSADM_SPEC, SYSCTL_SPEC, RUN_SPEC, SERVE_SPEC, LAB_SPEC, REPLAY_SPEC];
