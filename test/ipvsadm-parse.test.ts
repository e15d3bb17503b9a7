// ipvsadm's command line (ipvsadm 1.31 ipvsadm.c: parse_options, process_options, commands_v_options): defaults,
// popt tokenising, the commands_v_options table, and ipvsadm's own error texts and exit statuses.
import {describe, expect, it} from 'vitest';
import {box, words} from './helpers/ipvsadm.js';
import {Engine} from '../src/engine/engine.js';
import {SVC_F} from '../src/engine/constants.js';
import {runIpvsadm} from '../src/ipvsadm/exec.js';
import {COMMANDS_V_OPTIONS, CMD, FWD, OPT_NAMES, parseIpvsadm, splitWords} from '../src/ipvsadm/parse.js';
import {IpvsadmExit} from '../src/ipvsadm/errors.js';

function err(argv: string[]): {code: number; stderr: string} {
  try {
    parseIpvsadm(argv);
  } catch (e) {
    if (e instanceof IpvsadmExit) return {code: e.code, stderr: e.stderr};
    throw e;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}



describe('commands_v_options (ipvsadm.c table)', () => {
  it('has one 34-column row per command, transcribed from ipvsadm.c', () => {
    expect(COMMANDS_V_OPTIONS).toHaveLength(14);
    for (const row of COMMANDS_V_OPTIONS) expect(row).toHaveLength(OPT_NAMES.length);
    // Spot checks against the C source: LIST row: -n optional, -c/service/--timeout/--daemon exclusive.
    expect(COMMANDS_V_OPTIONS[CMD.LIST - 1]!.slice(0, 3)).toBe(' 11');
    expect(COMMANDS_V_OPTIONS[CMD.LIST - 1]![12]).toBe('1');
    expect(COMMANDS_V_OPTIONS[CMD.LIST - 1]![28]).toBe(' '); // --tun-info
    expect(COMMANDS_V_OPTIONS[CMD.ADD - 1]!.slice(21, 24)).toBe('   '); // -o --pe -b
    expect(COMMANDS_V_OPTIONS[CMD.ADDDEST - 1]!.slice(29)).toBe('     '); // tunnel options
    expect(COMMANDS_V_OPTIONS[CMD.STARTDAEMON - 1]![11]).toBe(' '); // --mcast-interface
    expect(COMMANDS_V_OPTIONS[CMD.SAVE - 1]![0]).toBe(' ');
    expect(COMMANDS_V_OPTIONS[CMD.ZERO - 1]![2]).toBe(' ');
  });

  it.each([
    ['-A -t 1.2.3.4:80 -w 3', "Illegal 'weight' option with the 'add-service' command"],
    ['-S --nosort', "Illegal 'nosort' option with the 'save' command"],
    ['-a -t 1.2.3.4:80', "You need to supply the 'real-server' option for the 'add-server' command"],
    ['-D -r 1.2.3.4', "You need to supply the 'service-address' option for the 'delete-service' command"],
    ['-L -c -t 1.2.3.4:80', "The option 'service-address' conflicts with the 'connection' option in the 'list' command"],
    ['-L --timeout --daemon', "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"],
    ['-C -n', "Illegal 'numeric' option with the 'flush' command"],
    ['-d -t 1.2.3.4:80 -r 1.1.1.1 -m', "Illegal 'forwarding-method' option with the 'delete-server' command"],
    ['--set 1 2 3 -n', "Illegal 'numeric' option with the 'set' command"],
    ['--stop-daemon master --mcast-interface eth1', "Illegal 'mcast-interface' option with the 'stop-daemon' command"],
  ])('%s -> %s', (cmd, msg) => {
    expect(err(words(cmd))).toEqual({code: 2, stderr: `${msg}\n`});
  });
});

describe('defaults (ipvsadm.c parse_options)', () => {
  it('-A without -s sends wlc; -p without a value is 360 s; netmask /32', () => {
    const pc = parseIpvsadm(words('-A -t 10.0.0.1:80 -p'));
    expect(pc.svc.sched).toBe('wlc');
    expect(pc.svc.timeout).toBe(360);
    expect(pc.svc.flags & SVC_F.PERSISTENT).toBeTruthy();
    expect(pc.svc.netmask).toBe(0xffffffff);
  });

  it('-a defaults to weight 1 and direct routing, and forces the service port for -g and -i', () => {
    const pc = parseIpvsadm(words('-a -t 10.0.0.1:80 -r 10.1.0.1:8080'));
    expect(pc.dest.weight).toBe(1);
    expect(pc.dest.fwd).toBe(FWD.DROUTE);
    expect(pc.dest.port).toBe(80);
    expect(parseIpvsadm(words('-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -i')).dest.port).toBe(80);
    expect(parseIpvsadm(words('-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m')).dest.port).toBe(8080);
    expect(parseIpvsadm(words('-a -t 10.0.0.1:80 -r 10.1.0.1 -m')).dest.port).toBe(80);
    // fwmark services keep the given (or zero) port
    expect(parseIpvsadm(words('-a -f 5 -r 10.1.0.1:8080')).dest.port).toBe(8080);
    expect(parseIpvsadm(words('-a -f 5 -r 10.1.0.1')).dest.port).toBe(0);
  });

  it('--start-daemon defaults the interface to eth0', () => {
    expect(parseIpvsadm(words('--start-daemon backup')).daemon.mcastIfn).toBe('eth0');
  });

  it('-6 sets an IPv6 fwmark service with a /128 default netmask', () => {
    const pc = parseIpvsadm(words('-A -f 7 -6 -p -M 64'));
    expect(pc.svc.af).toBe(6);
    expect(pc.svc.netmask).toBe(64);
  });

  it('edit is a full replace: -E without -s resets to wlc and drops persistence and OPS', () => {
    const e = box('-A -u 10.0.0.1:53 -s rr -p 60 -o', '-E -u 10.0.0.1:53');
    const svc = e.listServices()[0]!;
    expect(svc.scheduler).toBe('wlc');
    expect(svc.flags & (SVC_F.PERSISTENT | SVC_F.ONEPACKET)).toBe(0);
  });

  it('-e resets weight and forwarding to the defaults when not repeated', () => {
    const e = box('-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.1.0.1 -m -w 5', '-e -t 10.0.0.1:80 -r 10.1.0.1');
    const d = e.listServices()[0]!.dests[0]!;
    expect([d.fwd, d.weight]).toEqual(['route', 1]);
  });
});

describe('popt tokenising', () => {
  it('clusters short options, takes attached and separate arguments', () => {
    expect(parseIpvsadm(['-Ln']).format.numeric).toBe(true);
    expect(parseIpvsadm(['-At', '10.0.0.1:80']).svc.port).toBe(80);
    expect(parseIpvsadm(['-A', '-t10.0.0.1:81']).svc.port).toBe(81);
    expect(parseIpvsadm(['--add-service', '--tcp-service=10.0.0.1:82']).svc.port).toBe(82);
  });

  it('-p takes the next word only when it does not start with -', () => {
    expect(parseIpvsadm(words('-A -t 10.0.0.1:80 -p 600 -s rr')).svc.timeout).toBe(600);
    const pc = parseIpvsadm(words('-A -t 10.0.0.1:80 -p -s rr'));
    expect([pc.svc.timeout, pc.svc.sched]).toEqual([360, 'rr']);
    expect(parseIpvsadm(words('-A -t 10.0.0.1:80 --persistent=900')).svc.timeout).toBe(900);
  });

  it('the first option must be a command (try-help, exit 255)', () => {
    const tryHelp = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
    expect(err(['-n', '-L'])).toEqual({code: 255, stderr: tryHelp});
    expect(err(['-t', '1.2.3.4:80', '-A'])).toEqual({code: 255, stderr: tryHelp});
    expect(err(['--bogus'])).toEqual({code: 255, stderr: tryHelp});
  });

  it('reports popt errors after the command as "OPTION: reason", exit 255', () => {
    expect(err(['-L', '-Q'])).toEqual({code: 255, stderr: '-Q: unknown option\n'});
    expect(err(['-L', '--bogus'])).toEqual({code: 255, stderr: '--bogus: unknown option\n'});
    expect(err(['-A', '-t'])).toEqual({code: 255, stderr: '-t: missing argument\n'});
  });

  it('a second command is not an option of the loop (ipvsadm 1.31 with popt)', () => {
    expect(err(words('-A -t 1.1.1.1:80 -A'))).toEqual({code: 2, stderr: "invalid option `-A'\n"});
  });

  it('leftover words are rejected; --set takes exactly three', () => {
    expect(err(words('-L foo'))).toEqual({code: 2, stderr: 'unexpected argument foo\n'});
    expect(err(words('--set 1 2'))).toEqual({code: 2, stderr: '--set option requires 3 timeout values\n'});
    expect(err(words('--set 1 2 3 4'))).toEqual({code: 2, stderr: 'unexpected argument 4\n'});
    expect(parseIpvsadm(words('--set 30 20 10')).timeout).toEqual({tcp: 30, tcpfin: 20, udp: 10});
  });
});

describe('argument syntax and ipvsadm error texts (exit 2)', () => {
  it.each([
    ['-A -t 80', 'illegal virtual server address[:port] specified'],
    ['-A -t [::1]', 'illegal virtual server address[:port] specified'],
    ['-A -t 10.0.0.1:99999', 'illegal virtual server address[:port] specified'],
    ['-A -t 10.0.0.1:nosuchport', 'illegal virtual server address[:port] specified'],
    ['-A -t www.example.com:80', 'illegal virtual server address[:port] specified'],
    ['-a -t 10.0.0.1:80 -r x.y', 'illegal real server address[:port] specified'],
    ['-A -t 10.0.0.1:0', 'Zero port specified for non-persistent service'],
    ['-A -t 10.0.0.1:80 -o', 'One-Packet Scheduling is only for UDP virtual services'],
    ['-A -t 10.0.0.1:80 -p 0', "invalid timeout value `0' specified"],
    ['-A -t 10.0.0.1:80 -p 2678401', "invalid timeout value `2678401' specified"],
    ['-A -t 10.0.0.1:80 -p -M 1.2.3.x', 'illegal virtual server persistent mask specified'],
    ['-A -t [2001:db8::1]:80 -p -M 129', 'illegal ipv6 netmask specified'],
    ['-A -f 0', "invalid fwmark value `0' specified"],
    ['-A -f 4294967296', "invalid fwmark value `4294967296' specified"],
    ['-A -t 10.0.0.1:80 -b foo', "invalid scheduler flag `foo'"],
    ['-A -t 10.0.0.1:80 -b sh-port', "incompatible scheduler flag `sh-port'"],
    ['-A -t 10.0.0.1:80 -s mh -b sh-fallback', "incompatible scheduler flag `sh-fallback'"],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -w 65536', 'illegal weight specified'],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -x -1', 'illegal u_threshold specified'],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -y 2147483648', 'illegal l_threshold specified'],
    ['-a -t 10.0.0.1:80 -r [2001:db8::1]:80 -m', 'Different address family is allowed only for tunneling servers'],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -m --tun-type gue', 'Tunnel options conflict with forward method'],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue', "You need to supply the 'tun-port' option for the 'gue' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-port 99', "Illegal 'tun-port' option with the 'ipip' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum', "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type vxlan', 'illegal tunnel type specified'],
    ['--start-daemon primary', 'illegal start-daemon parameter specified'],
    ['--stop-daemon primary', 'illegal start_daemon specified'],
    ['--start-daemon master --syncid 256', 'illegal syncid specified'],
    ['--start-daemon master --mcast-group 10.0.0.1', "invalid IPv4 mcast-group `10.0.0.1'"],
    ['--start-daemon master --mcast-group 2001:db8::1', "invalid IPv6 mcast-group `2001:db8::1'"],
    ['--start-daemon master --mcast-port 0', 'illegal mcast-port specified'],
    ['--start-daemon master --mcast-ttl 256', 'illegal mcast-ttl specified'],
    ['--start-daemon master --sync-maxlen 65508', 'illegal sync-maxlen specified'],
    ['-L -c --stats', 'options conflicts in the list command'],
    ['-L --daemon --persistent-conn', 'options conflicts in the list command'],
    ['-A -t 10.0.0.1:80 -t 10.0.0.1:81', "multiple 'service-address' options specified"],
    ['-a -t 10.0.0.1:80 -r 10.1.0.1 -g -m', "multiple 'forwarding-method' options specified"],
    ['-A -6 -f 1', '-6 used before -f\n'],
  ])('%s', (cmd, msg) => {
    expect(err(words(cmd))).toEqual({code: 2, stderr: `${msg}\n`});
  });

  it('accepts what inet_aton, inet_pton and the services database accept', () => {
    expect(parseIpvsadm(words('-A -t 10.1:http')).svc).toMatchObject({addr: 0x0a000001, port: 80});
    expect(parseIpvsadm(words('-A -u 10.0.0.1:domain')).svc.port).toBe(53);
    expect(parseIpvsadm(words('-A -t [2001:db8::1]:443')).svc).toMatchObject({af: 6, addr: '2001:db8::1', port: 443, netmask: 128});
    expect(parseIpvsadm(words('-A -t 10.0.0.1:80 -p -M 255.255.255.0')).svc.netmask).toBe(0xffffff00);
    // -b is parsed after all options, against -s wherever it appears
    expect(parseIpvsadm(words('-A -t 10.0.0.1:80 -b sh-port,sh-fallback -s sh')).svc.flags & 0x38).toBe(SVC_F.SCHED1 | SVC_F.SCHED2);
  });

  it('-s keeps at most 15 characters, as the kernel API does', () => {
    expect(parseIpvsadm(words('-A -t 10.0.0.1:80 -s abcdefghijklmnopq')).svc.sched).toBe('abcdefghijklmno');
  });
});

describe('kernel errors through libipvs messages (exit 255)', () => {
  it.each([
    [['-A -t 10.0.0.1:80'], '-A -t 10.0.0.1:80', 'Service already exists'],
    [[], '-A -t 10.0.0.1:80 -s nosuch', 'Scheduler or persistence engine not found'],
    [[], '-A -t 10.0.0.1:80 --pe nosuch', 'Scheduler or persistence engine not found'],
    [[], '-E -t 10.0.0.1:80', 'No such service'],
    [[], '-D -t 10.0.0.1:80', 'No such service'],
    [[], '-Z -t 10.0.0.1:80', 'No such service'],
    [[], '-a -t 10.0.0.1:80 -r 10.1.0.1', 'Service not defined'],
    [['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.1.0.1'], '-a -t 10.0.0.1:80 -r 10.1.0.1', 'Destination already exists'],
    [['-A -t 10.0.0.1:80'], '-e -t 10.0.0.1:80 -r 10.1.0.1', 'No such destination'],
    [['-A -t 10.0.0.1:80'], '-d -t 10.0.0.1:80 -r 10.1.0.1', 'No such destination'],
    [['-A -t 10.0.0.1:80'], '-a -t 10.0.0.1:80 -r 10.1.0.1 -x 5 -y 6', 'Numerical result out of range'],
    [['--start-daemon master'], '--start-daemon master', 'Daemon has already run'],
    [[], '--stop-daemon backup', 'No daemon is running'],
  ])('%# %s', (setup, cmd, msg) => {
    const e = box(...setup);
    const r = runIpvsadm(e, words(cmd));
    expect(r).toMatchObject({code: 255, stderr: `${msg}\n`, stdout: ''});
  });

  it('-L of a missing service prints "No such service" and exits 1', () => {
    expect(runIpvsadm(new Engine(), words('-L -t 10.0.0.1:80'))).toMatchObject({code: 1, stderr: 'No such service\n'});
  });

  it('-h prints the usage on stdout with status 0; -v the version', () => {
    const h = runIpvsadm(new Engine(), ['-h']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^ipvsadm v1\.31 .*\nUsage:\n {2}ipvsadm -A\|E virtual-service/);
    expect(runIpvsadm(new Engine(), ['-v']).stdout).toBe('ipvsadm v1.31 2019/07/02 (compiled with popt and IPVS v1.2.1)\n');
  });
});

describe('splitWords', () => {
  it('splits on blanks and honours quotes', () => {
    expect(splitWords(`  -A -t 10.0.0.1:80  -s 'rr'  `)).toEqual(['-A', '-t', '10.0.0.1:80', '-s', 'rr']);
    expect(splitWords('a "b c" d\\ e')).toEqual(['a', 'b c', 'd e']);
    expect(() => splitWords('a "b')).toThrow(/unterminated/);
  });
});
