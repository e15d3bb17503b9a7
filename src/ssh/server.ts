// The ssh front of `lvsdeck serve` (ssh2): public-key authentication only, against an
// authorized_keys file whose lines carry a role; one UI session per shell channel, attached to the
// shared host; read-only listings for exec requests; limits and a failed-login limiter.
//
// Connection life: TCP accept (blocked addresses, connections over --max-conns and over the
// unauthenticated limits of preauth.ts are closed here, before any ssh) -> ssh handshake, which
// must reach authentication within the pre-auth timeout -> authentication within the login grace
// time, at most `authTries` rejected attempts -> channels (at most CHANNELS_PER_CONN; pty sizes
// and window changes clamped and coalesced, limits.ts). A connection that never got in counts as
// one failed login for the limiter (an idle one dropped by a timeout too), and is logged. Every
// client-supplied string is quoted or escaped before it reaches a log line (untrusted-text.ts).
import {timingSafeEqual} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import {createServer, type Server as NetServer, type Socket} from 'node:net';
import ssh2 from 'ssh2';
import type {AuthContext, Connection, ServerChannel, Session} from 'ssh2';
import {type AuthorizedKey, type AuthorizedKeys, fingerprint, fromAllows, parseAuthorizedKeys} from './authorized-keys.js';
import {runExec} from './exec.js';
import {type DeckHost, ENTER_SCREEN, LEAVE_SCREEN, type UiHandle} from './host.js';
import {escapeControls, quoteUntrusted} from '../util/untrusted-text.js';
import {CHANNELS_PER_CONN, clampPty, EXEC_BURST, EXECS_PER_SEC, MAX_EXEC_LINE, MAX_TERM, ResizeThrottle, TokenBucket} from './limits.js';
import {type PendingConn, PreAuthGate, sourceOf} from './preauth.js';
import {AuthLimiter, type LimiterOptions} from './rate-limit.js';
import {asTtyIn, type InputLimits, InputThrottle, type PtyInfo, SshTtyOut} from './tty.js';

const {Server} = ssh2;

/** A client-chosen name (an auth method) as is when it looks like one, else quoted. */
const word = (s: string) => (/^[a-z0-9@.-]{1,32}$/.test(s) ? s : quoteUntrusted(s, 32));

export interface SshServerOptions {
  host: string;
  port: number;
  hostKey: Buffer;
  authorizedKeysPath: string;
  /** UI sessions in total (the console included). */
  maxSessions: number;
  /** UI sessions per key. */
  maxPerKey: number;
  /** TCP connections at once (authenticated or not). */
  maxConns: number;
  /** Unauthenticated connections at once (default: half of maxConns, at most 16). */
  maxStartups?: number;
  /** Unauthenticated connections at once from one address (default 4, at most maxStartups). */
  perSourceStartups?: number;
  /** Wall ms from TCP accept to the first authentication request (default 10 s). */
  preauthMs?: number;
  /** Rejected authentication attempts per connection before it is closed (sshd's MaxAuthTries). */
  authTries: number;
  /** Wall ms a connection has to authenticate (sshd's LoginGraceTime). */
  loginGraceMs: number;
  limiter: LimiterOptions;
  /** Offer the read-only listings to exec requests (else every exec is refused). */
  exec: boolean;
  /** Bytes queued for one client above which its session is closed. */
  hardBacklog?: number;
  /** The rate at which a session's keys reach its UI (default INPUT_LIMITS; the fuzz harness lifts it). */
  inputLimits?: InputLimits;
  /** A line for the operator running the server (stderr, or nowhere under --console). */
  log: (line: string) => void;
  /** An event for the audit file (auth failures, logins, refusals). */
  event: (e: Record<string, unknown>) => void;
}

export interface SshCounters {
  connections: number;
  /** Unauthenticated connections refused or dropped (limits, pre-auth timeout). */
  preauthDropped: number;
  logins: number;
  failedLogins: number;
  blockedConnections: number;
  refusedSessions: number;
  execs: number;
  overflows: number;
}

/** One TCP connection, from accept to close. */
interface ConnState extends PendingConn {
  sock: Socket;
  ip: string;
  port: number;
  from: string;
  username: string;
  methods: Set<string>;
  offered: Set<string>;
  tries: number;
  why: string[];
  key: AuthorizedKey | null;
  ready: boolean;
  /** Why the server closed it before it authenticated (null: it did not, or not yet). */
  dropped: string | null;
  handles: Set<UiHandle>;
  /** Open session channels and what they have queued (exec output included). */
  channels: Set<ServerChannel>;
  sessions: number;
  execs: TokenBucket;
}

export class SshServer {
  private readonly net: NetServer;
  private readonly ssh: InstanceType<typeof Server>;
  readonly limiter: AuthLimiter;
  private readonly open = new Set<ConnState>();
  /** Accepted sockets by "address|port": how an ssh2 connection finds its socket (see connOf). */
  private readonly byPeer = new Map<string, ConnState>();
  readonly preauth: PreAuthGate<ConnState>;
  private keysCache: {sig: string; keys: AuthorizedKeys} | null = null;
  readonly counters: SshCounters = {connections: 0, preauthDropped: 0, logins: 0, failedLogins: 0, blockedConnections: 0, refusedSessions: 0, execs: 0, overflows: 0};
  private readonly hard: number;
  private readonly log: (line: string) => void;

  constructor(private readonly host: DeckHost, private readonly o: SshServerOptions) {
    this.limiter = new AuthLimiter(o.limiter);
    this.hard = o.hardBacklog ?? 4 * 1024 * 1024;
    const total = o.maxStartups ?? Math.max(1, Math.min(16, Math.floor(o.maxConns / 2)));
    this.preauth = new PreAuthGate({total, perSource: Math.min(total, o.perSourceStartups ?? 4)});
    // one more guard on every line: whatever a caller forgot to quote cannot break the log
    this.log = (line) => o.log(escapeControls(line));
    this.ssh = new Server({hostKeys: [o.hostKey], ident: 'lvsdeck'}, (client, info) => this.onClient(client, info));
    this.ssh.on('error', (err: Error) => this.log(`ssh: ${err.message}`));
    this.net = createServer((sock) => this.onSocket(sock));
    this.net.on('error', (err) => this.log(`listen: ${err.message}`));
  }

  listen(): Promise<{host: string; port: number}> {
    return new Promise((resolve, reject) => {
      const onErr = (err: Error) => reject(err);
      this.net.once('error', onErr);
      this.net.listen(this.o.port, this.o.host, () => {
        this.net.off('error', onErr);
        const a = this.net.address();
        resolve({host: this.o.host, port: typeof a === 'object' && a ? a.port : this.o.port});
      });
    });
  }

  /** Stop listening and drop every connection (the UI sessions are closed by the host). */
  close(): Promise<void> {
    for (const c of this.open) c.sock.destroy();
    return new Promise((r) => this.net.close(() => r()));
  }

  get connections(): number {
    return this.open.size;
  }

  /** The authorized keys, re-read whenever the file changes (keys can be added or revoked live). */
  keys(): AuthorizedKeys {
    let sig = 'missing';
    try {
      const st = statSync(this.o.authorizedKeysPath);
      sig = `${st.mtimeMs}/${st.size}/${st.ino}`;
    } catch { /* missing: nobody gets in */ }
    if (this.keysCache && this.keysCache.sig === sig) return this.keysCache.keys;
    let keys: AuthorizedKeys = {keys: [], warnings: []};
    if (sig === 'missing') this.log(`authorized keys ${this.o.authorizedKeysPath}: missing, nobody can log in`);
    else {
      try {
        keys = parseAuthorizedKeys(readFileSync(this.o.authorizedKeysPath, 'utf8'));
      } catch (err) {
        this.log(`authorized keys ${this.o.authorizedKeysPath}: ${(err as Error).message}`);
      }
      for (const w of keys.warnings) this.log(`${this.o.authorizedKeysPath}:${w.line}: ${w.message}`);
      const roles = keys.keys.map((k) => `${k.name}=${k.role}`).join(', ');
      this.log(`authorized keys: ${keys.keys.length} loaded${roles ? ` (${roles})` : ''}`);
    }
    this.keysCache = {sig, keys};
    return keys;
  }

  private onSocket(sock: Socket): void {
    const ip = sock.remoteAddress ?? '?';
    const port = sock.remotePort ?? 0;
    sock.on('error', () => { /* ECONNRESET and friends: the close handler cleans up */ });
    const chk = this.limiter.check(ip);
    if (chk.blocked) {
      this.counters.blockedConnections++;
      if (chk.refused === 1 || chk.refused % 100 === 0) {
        this.log(`${ip}: blocked for ${Math.ceil(chk.retryMs / 1000)} s more after failed logins (${chk.refused} refused)`);
      }
      sock.destroy();
      return;
    }
    const c: ConnState = {
      sock, ip, port, source: sourceOf(ip), opened: performance.now(), reachedAuth: false,
      from: `ssh ${sourceOf(ip)}:${port}`, username: '', methods: new Set(), offered: new Set(), tries: 0, why: [], key: null,
      ready: false, dropped: null, handles: new Set(), channels: new Set(), sessions: 0, execs: new TokenBucket(EXEC_BURST, EXECS_PER_SEC),
    };
    const adm = this.preauth.admit(c);
    if (!adm.ok) {
      this.counters.preauthDropped++;
      this.log(`${ip}: refused, ${adm.reason}`);
      sock.destroy();
      return;
    }
    // --max-conns full: an idle unauthenticated connection makes room too
    const evict = adm.evict ?? (this.open.size >= this.o.maxConns ? this.preauth.oldestIdle() : null);
    if (evict) this.drop(evict, 'idle before authentication, replaced by a newer connection');
    else if (this.open.size >= this.o.maxConns) {
      this.log(`${ip}: refused, ${this.open.size} connections open (--max-conns ${this.o.maxConns})`);
      sock.destroy();
      return;
    }
    this.preauth.add(c);
    this.open.add(c);
    const peer = `${ip}|${port}`;
    this.byPeer.set(peer, c);
    sock.setKeepAlive(true, 30_000);
    sock.setNoDelay(true);
    // a short deadline to reach authentication (an idle socket never does), and sshd's
    // LoginGraceTime from the TCP accept to authenticated
    const preauth = setTimeout(() => { if (!c.reachedAuth) this.drop(c, 'no authentication request in time'); }, this.o.preauthMs ?? 10_000);
    const grace = setTimeout(() => { if (!c.ready) this.drop(c, 'login grace time over'); }, this.o.loginGraceMs);
    sock.once('close', () => {
      clearTimeout(preauth);
      clearTimeout(grace);
      this.open.delete(c);
      this.preauth.remove(c);
      if (this.byPeer.get(peer) === c) this.byPeer.delete(peer);
      // one that reached authentication is counted by the client's close handler
      if (c.dropped && !c.reachedAuth) this.preauthFailure(c);
    });
    this.counters.connections++;
    this.ssh.injectSocket(sock);
  }

  /** Close a connection that has not authenticated. */
  private drop(c: ConnState, why: string): void {
    if (c.ready || c.dropped) return;
    c.dropped = why;
    if (c.reachedAuth) c.why.push(why);
    c.sock.destroy();
  }

  /** A connection dropped before it even asked to authenticate: a failed login all the same. */
  private preauthFailure(c: ConnState): void {
    this.counters.preauthDropped++;
    const r = this.limiter.failure(c.ip);
    const blocked = r.blocked ? Math.round(this.o.limiter.cooldownMs / 1000) : 0;
    this.o.event({event: 'preauth-dropped', ip: c.ip, port: c.port, reason: c.dropped, ...(blocked ? {blocked} : {})});
    this.log(`${c.ip}:${c.port} dropped before authentication: ${c.dropped}` + (blocked ? `; ${c.ip} blocked for ${blocked} s` : ''));
  }

  /**
   * The connection state of an ssh2 client. ssh2 hands its 'connection' listener the socket's
   * remoteAddress and remotePort but not the socket itself; (address, port) is unique among the
   * open sockets of one listener, so it finds the state made at accept. This, and nothing
   * reaching into ssh2's private fields, ties the two together (test/ssh-server.test.ts fails if
   * a library update breaks it: no login would get through).
   */
  private connOf(info: {ip: string; port: number}): ConnState | null {
    return this.byPeer.get(`${info.ip}|${info.port}`) ?? null;
  }

  private onClient(client: Connection, info: {ip: string; port: number}): void {
    // mandatory: an unhandled 'error' (ECONNRESET) would take the whole server down
    client.on('error', () => { /* the close handler cleans up */ });
    const st = this.connOf(info);
    if (!st) {
      this.log(`${info.ip}:${info.port}: connection not found (ssh2 changed?); closed`);
      client.end();
      return;
    }
    client.on('authentication', (ctx) => this.onAuth(client, st, ctx));
    client.on('ready', () => {
      st.ready = true;
      this.preauth.remove(st);
      this.counters.logins++;
      const k = st.key!;
      this.o.event({event: 'login', user: k.name, role: k.role, key: k.fingerprint, from: st.from, username: st.username});
      this.log(`login: ${k.name} (${k.role}) from ${st.from} as ${quoteUntrusted(st.username)}`);
      client.on('session', (accept, reject) => {
        if (st.sessions >= CHANNELS_PER_CONN) {
          this.log(`${k.name} from ${st.from}: session channel refused, ${st.sessions} open (limit ${CHANNELS_PER_CONN})`);
          reject();
          return;
        }
        st.sessions++;
        const session = accept();
        session.once('close', () => { st.sessions--; });
        this.onSession(client, st, session);
      });
    });
    client.on('close', () => {
      for (const h of st.handles) this.host.close(h, 'disconnected');
      if (!st.ready && st.methods.size > 0) this.failedLogin(st);
    });
  }

  private failedLogin(st: ConnState): void {
    this.counters.failedLogins++;
    const r = this.limiter.failure(st.ip);
    const e = {
      event: 'auth-failed', ip: st.ip, port: st.port, username: st.username, methods: [...st.methods], keys: [...st.offered],
      reason: st.why.length ? [...new Set(st.why)].join('; ') : 'no acceptable key', ...(r.blocked ? {blocked: Math.round(this.o.limiter.cooldownMs / 1000)} : {}),
    };
    this.o.event(e);
    this.log(`failed login from ${st.ip}:${st.port} as ${quoteUntrusted(st.username)} (${e.methods.map(word).join(',')}): ${e.reason}` +
      (r.blocked ? `; ${st.ip} blocked for ${Math.round(this.o.limiter.cooldownMs / 1000)} s` : ''));
  }

  private onAuth(client: Connection, st: ConnState, ctx: AuthContext): void {
    st.reachedAuth = true;
    st.username = ctx.username.slice(0, 256);
    if (st.methods.size < 8) st.methods.add(ctx.method.slice(0, 64));
    const reject = (why?: string) => {
      if (why) st.why.push(why);
      if (ctx.method !== 'none' && ++st.tries >= this.o.authTries) {
        st.why.push(`too many attempts (${this.o.authTries})`);
        ctx.reject(['publickey']);
        client.end();
        return;
      }
      ctx.reject(['publickey']);
    };
    if (ctx.method !== 'publickey') {
      reject(ctx.method === 'none' ? undefined : `${word(ctx.method)} authentication is not offered`);
      return;
    }
    const offered = ctx.key.data;
    const fp = fingerprint(offered);
    if (st.offered.size < 16) st.offered.add(fp);
    const match = this.keys().keys.find((k) => k.blob.length === offered.length && timingSafeEqual(k.blob, offered));
    if (!match) { reject(`key ${fp} is not authorized`); return; }
    if (match.expires !== null && Date.now() >= match.expires) { reject(`key ${fp} (${match.name}) expired`); return; }
    if (!fromAllows(match.from, st.ip)) { reject(`key ${fp} (${match.name}) not allowed from ${st.ip}`); return; }
    if (!ctx.signature) {
      ctx.accept(); // "would you accept this key?": yes; the client signs next
      return;
    }
    if (!ctx.blob || match.parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      reject(`bad signature for ${fp}`);
      return;
    }
    st.key = match;
    ctx.accept();
  }

  private onSession(_client: Connection, st: ConnState, session: Session): void {
    const key = st.key!;
    let pty: PtyInfo | null = null;
    let ui: {out: SshTtyOut; handle: UiHandle} | null = null;
    // pty sizes clamped (limits.ts): the server draws every frame at this size
    let resizer: ResizeThrottle | null = null;
    session.on('pty', (accept, reject, info) => {
      if (key.noPty) { reject?.(); return; }
      pty = {...clampPty(info.cols, info.rows), term: String(info.term ?? '').slice(0, MAX_TERM)};
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (ui) resizer?.request(info.cols, info.rows);
      else if (pty) Object.assign(pty, clampPty(info.cols, info.rows));
      accept?.();
    });
    session.once('close', () => resizer?.stop());
    session.on('env', (accept) => accept?.()); // accepted and ignored (LANG, TERM...)
    session.on('signal', (accept) => accept?.());
    session.on('shell', (accept) => {
      const ch = this.track(st, accept());
      if (key.command !== null) { this.exec(ch, st, key.command, pty !== null, true); return; }
      if (!pty) {
        this.finishChannel(ch, 'lvsdeck: the UI needs a terminal: ssh -t ...' + (key.noPty ? ' (this key has no-pty: listings only, try `help`)' : ''), 1, false);
        return;
      }
      const open = this.host.presence.size;
      const mine = this.host.presence.countKey(key.fingerprint);
      let refusal: string | null = null;
      if (open >= this.o.maxSessions) refusal = `too many sessions (${open} open, limit ${this.o.maxSessions}); try again later`;
      else if (mine >= this.o.maxPerKey) refusal = `too many sessions for this key (${mine} open, limit ${this.o.maxPerKey})`;
      if (refusal) {
        this.counters.refusedSessions++;
        this.o.event({event: 'session-refused', user: key.name, role: key.role, key: key.fingerprint, from: st.from, reason: refusal});
        this.log(`session refused: ${key.name} from ${st.from}: ${refusal}`);
        this.finishChannel(ch, `lvsdeck: ${refusal}`, 1, true);
        return;
      }
      const started = this.startUi(st, ch, pty);
      ui = started;
      resizer = new ResizeThrottle((cols, rows) => started.out.resize(cols, rows));
      started.handle.onClose(() => resizer?.stop());
    });
    session.on('exec', (accept, _reject, info) => {
      const ch = this.track(st, accept());
      this.exec(ch, st, key.command ?? info.command, pty !== null, key.command !== null);
    });
  }

  private track(st: ConnState, ch: ServerChannel): ServerChannel {
    ch.on('error', () => { /* closed under us */ });
    st.channels.add(ch);
    ch.once('close', () => st.channels.delete(ch));
    return ch;
  }

  private finishChannel(ch: ServerChannel, text: string, code: number, crlf: boolean): void {
    const out = text.endsWith('\n') ? text : `${text}\n`;
    ch.stderr.write(crlf ? out.replace(/\r?\n/g, '\r\n') : out);
    ch.exit(code);
    ch.end();
  }

  private exec(ch: ServerChannel, st: ConnState, command: string, tty: boolean, forced: boolean): void {
    this.counters.execs++;
    const key = st.key!;
    if (!this.o.exec && !forced) {
      this.finishChannel(ch, 'lvsdeck: exec requests are disabled on this server (--no-exec); ssh -t opens the UI', 1, tty);
      return;
    }
    // listings are computed at once, on the event loop the engine shares: bounded in rate, and
    // not for a client that leaves what it was already sent unread
    let refusal: string | null = null;
    if (command.length > MAX_EXEC_LINE) refusal = `command line too long (${command.length} characters, limit ${MAX_EXEC_LINE})`;
    else if (!st.execs.take()) refusal = `too many commands (limit ${EXEC_BURST} at once, then ${EXECS_PER_SEC} a second); try again shortly`;
    else if (this.backlog(st) > this.hard) refusal = 'earlier output is still unread; try again later';
    if (refusal) {
      this.o.event({event: 'exec-refused', user: key.name, role: key.role, key: key.fingerprint, from: st.from, command: command.slice(0, 200), reason: refusal});
      this.finishChannel(ch, `lvsdeck: ${refusal}`, 1, tty);
      return;
    }
    const listings = this.host.listings;
    if (!listings) {
      this.finishChannel(ch, 'lvsdeck: this server offers no listings over exec; ssh -t opens the UI', 1, tty);
      return;
    }
    const r = runExec(command, {listings, peers: () => this.host.presence.list(), audit: () => this.host.audit.list()});
    this.o.event({event: 'exec', user: key.name, role: key.role, key: key.fingerprint, from: st.from, command: command.slice(0, 200), code: r.code});
    const fix = (s: string) => (tty ? s.replace(/\r?\n/g, '\r\n') : s);
    if (r.stdout) ch.write(fix(r.stdout));
    if (r.stderr) ch.stderr.write(fix(r.stderr));
    ch.exit(r.code);
    ch.end();
  }

  /** Bytes queued for one connection: its open channels and its socket. */
  private backlog(st: ConnState): number {
    let n = st.sock.writableLength;
    for (const ch of st.channels) n += ch.writableLength + ch.stderr.writableLength;
    return n;
  }

  private startUi(st: ConnState, ch: ServerChannel, pty: PtyInfo): {out: SshTtyOut; handle: UiHandle} {
    const key = st.key!;
    const backlog = () => this.backlog(st);
    let overflowed = false;
    let handle: UiHandle | null = null;
    const out = new SshTtyOut(ch, pty, (len) => {
      if (backlog() + len <= this.hard) return true;
      if (!overflowed) {
        overflowed = true;
        this.counters.overflows++;
        this.log(`session of ${key.name} from ${st.from}: client not reading (${backlog()} bytes queued), closing it`);
        setImmediate(() => {
          if (handle) this.host.close(handle, 'client not reading');
          ch.close();
        });
      }
      return false;
    });
    ch.write(ENTER_SCREEN);
    handle = this.host.attach({
      identity: {user: key.name, role: key.role, from: st.from, key: key.fingerprint},
      stdout: out as unknown as NodeJS.WriteStream, stdin: asTtyIn(new InputThrottle(ch, this.o.inputLimits)), backlog,
      message: `${key.name}: ${key.role} role · ${this.host.presence.size + 1} connected · 7 shows who and the audit`,
    });
    const h = handle;
    st.handles.add(h);
    h.onClose((reason) => {
      st.handles.delete(h);
      this.log(`session ${h.id} closed: ${key.name} from ${st.from} (${reason}); ${this.host.presence.size} open`);
      if (reason !== 'disconnected' && reason !== 'client not reading' && ch.writable) {
        ch.write(LEAVE_SCREEN + (reason === 'quit' ? '' : `lvsdeck: ${reason}\r\n`));
        ch.exit(0);
        ch.end();
      }
    });
    ch.on('close', () => this.host.close(h, 'disconnected'));
    this.log(`session ${h.id} opened: ${key.name} (${key.role}) from ${st.from} ${pty.cols}x${pty.rows}; ${this.host.presence.size} open`);
    return {out, handle: h};
  }
}
