// The lab inside the kernel VM: a client namespace and two real-server namespaces around the VM's
// own (root) namespace, which is the director. Lab addresses only (198.18.0.0/15), no route out.
//
//   cl 198.18.0.2 --- director 198.18.0.1, VIP 198.18.0.100 --- rs1 198.19.1.2 (httpd :80, udp echo)
//                                                           \-- rs2 198.19.2.2 (httpd :80)
// Both real servers also hold the VIP (not announced) for direct routing (-g).
// 198.19.1.3 is routed toward rs1's link but nobody answers for it: a real server that is down.
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';

export const VIP = '198.18.0.100';
export const RS1 = '198.19.1.2';
export const RS2 = '198.19.2.2';
export const DEAD = '198.19.1.3';
/** Routed to nowhere on the director: a real server whose packets vanish. */
export const BLACKHOLE = '198.19.9.9';
/** Virtual ports of the direct-routing tests: the real servers listen on them too. */
export const DR_PORTS = [1044, 1045];
export const inVm = existsSync('/proc/net/ip_vs') && process.env.KERNEL_VM === '1';

export function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], {encoding: 'utf8'});
}

export function ipvsadm(...args: string[]): string {
  return execFileSync('ipvsadm', args, {encoding: 'utf8'});
}

export function sysctl(name: string): string {
  return sh(`cat /proc/sys/net/ipv4/vs/${name}`).trim();
}

/** Build the namespaces once per VM (node --test runs each test file in its own process). */
export function buildLab(): void {
  if (existsSync('/run/netns/cl')) return;
  sh(`set -e
    for n in cl rs1 rs2; do ip netns add $n; ip -n $n link set lo up; done
    ip link add cl0 netns cl type veth peer name d-cl
    ip link add rs0 netns rs1 type veth peer name d-rs1
    ip link add rs0 netns rs2 type veth peer name d-rs2
    ip -n cl addr add 198.18.0.2/24 dev cl0; ip addr add 198.18.0.1/24 dev d-cl
    ip -n rs1 addr add 198.19.1.2/24 dev rs0; ip addr add 198.19.1.1/24 dev d-rs1
    ip -n rs2 addr add 198.19.2.2/24 dev rs0; ip addr add 198.19.2.1/24 dev d-rs2
    ip -n cl link set cl0 up; ip -n rs1 link set rs0 up; ip -n rs2 link set rs0 up
    ip link set d-cl up; ip link set d-rs1 up; ip link set d-rs2 up
    ip -n cl route add default via 198.18.0.1
    ip -n rs1 route add default via 198.19.1.1
    ip -n rs2 route add default via 198.19.2.1
    echo 1 > /proc/sys/net/ipv4/ip_forward
    ip addr add ${VIP}/32 dev lo
    # direct routing: the real servers own the VIP without announcing it, answer the client from it
    # through the director, which forwards a source address of its own (accept_local); the client
    # may reuse a port its own TIME_WAIT holds (tcp_tw_reuse: the port-reuse tests)
    for n in rs1 rs2; do ip -n $n addr add ${VIP}/32 dev lo
      ip netns exec $n sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore; echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce'; done
    echo 1 > /proc/sys/net/ipv4/conf/d-rs1/accept_local; echo 1 > /proc/sys/net/ipv4/conf/d-rs2/accept_local
    ip netns exec cl sh -c 'echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse'
    ip route add blackhole ${BLACKHOLE}/32`);
  mkdirSync('/tmp/www', {recursive: true});
  writeFileSync('/tmp/www/index.html', 'hi\n');
  // :80 for masquerading; direct routing keeps the virtual port, so the DR tests' ports too
  sh(`for n in rs1 rs2; do for p in 80 ${DR_PORTS.join(' ')}; do ip netns exec $n httpd -p $p -h /tmp/www; done; done`);
}

/** Empty IPVS: no services, default timeouts, no daemons, the defenses and sysctls we touch reset. */
export function resetIpvs(): void {
  sh(`ipvsadm -C; ipvsadm --set 900 120 300; ipvsadm --stop-daemon master 2>/dev/null; ipvsadm --stop-daemon backup 2>/dev/null
    cd /proc/sys/net/ipv4/vs; echo 0 > drop_entry; echo 0 > drop_packet; echo 0 > secure_tcp; echo 1024 > amemthresh
    echo 1 > conn_reuse_mode; echo 0 > expire_nodest_conn; echo 0 > expire_quiescent_template; true`);
}

/** An HTTP request from the client namespace through the VIP; resolves when the exchange is over. */
export function httpGet(port = 80): string {
  return spawnSync('ip', ['netns', 'exec', 'cl', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${VIP} ${port}`],
    {encoding: 'utf8'}).stdout;
}

/** A TCP connection from the client namespace held open until the returned function is called. */
export function holdOpen(port = 80): () => void {
  const p = spawn('ip', ['netns', 'exec', 'cl', 'sh', '-c', `sleep 60 | nc ${VIP} ${port}`], {stdio: 'ignore'});
  return () => { p.kill('SIGKILL'); sh('ip netns exec cl sh -c "killall nc sleep 2>/dev/null; true"'); };
}

/** Run a Node script inside the client namespace (the host's node is in the VM). */
export function nodeInClient(script: string, timeoutMs = 60_000): string {
  // many sockets: lift the 1024 open-files limit for this process only
  const r = spawnSync('ip', ['netns', 'exec', 'cl', 'sh', '-c', 'ulimit -n 65536; exec "$0" -e "$1"', process.execPath, script],
    {encoding: 'utf8', timeout: timeoutMs});
  if (r.status !== 0) throw new Error(`client script failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/**
 * A SYN flood from the client namespace: once `go()` is called, connects in bursts of 500 every
 * 50 ms, at most `max`, until stopped. The sockets stay in SYN_SENT (the real server's address is a
 * blackhole on the director). The process starts paused so that its own memory is already in use
 * when the test measures what is free.
 */
export async function synFlood(port: number, max: number): Promise<{go(): void; stop(): void}> {
  const flag = '/tmp/flood-go';
  sh(`rm -f ${flag} /tmp/flood-ready`);
  const script = `const net = require('net'), fs = require('fs'); let n = 0;
    fs.writeFileSync('/tmp/flood-ready', '');
    (function wait() { if (!fs.existsSync('${flag}')) return setTimeout(wait, 20); burst(); })();
    function burst() {
      for (let i = 0; i < 500 && n < ${max}; i++, n++) net.connect(${port}, '${VIP}').on('error', () => {});
      setTimeout(burst, 50);
    }`;
  const p = spawn('ip', ['netns', 'exec', 'cl', 'sh', '-c', 'ulimit -n 65536; exec "$0" -e "$1"', process.execPath, script], {stdio: 'ignore'});
  for (let i = 0; i < 300 && !existsSync('/tmp/flood-ready'); i++) await sleep(50);
  await sleep(500);
  return {go: () => writeFileSync(flag, ''), stop: () => p.kill('SIGKILL')};
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
