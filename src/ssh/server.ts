// The ssh front of `lvsdeck serve` (ssh2): public-key authentication only, against an
// authorized_keys file whose lines carry a role; one UI session per shell channel, attached to the
// shared host; read-only listings for exec requests; limits and a failed-login limiter.
//
// Connection life: TCP accept (blocked addresses and connections over --max-conns are closed here,
// before any ssh) -> ssh handshake -> authentication within the login grace time, at most
// `authTries` rejected attempts -> channels. A connection that reached authentication and never
// got in counts as one failed login for the limiter, and is logged.
import {timingSafeEqual} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import {createServer, type Server as NetServer, type Socket} from 'node:net';
import ssh2 from 'ssh2';
import type {AuthContext, Connection, ServerChannel, Session} from 'ssh2';
import {type AuthorizedKey, type AuthorizedKeys, fingerprint, fromAllows, parseAuthorizedKeys} from './authorized-keys.js';
import {runExec} from './exec.js';
import {type DeckHost, ENTER_SCREEN, LEAVE_SCREEN, type UiHandle} from './host.js';
import {AuthLimiter, type LimiterOptions} from './rate-limit.js';
import {asTtyIn, type PtyInfo, SshTtyOut} from './tty.js';

const {Server} = ssh2;

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
  /** Rejected authentication attempts per connection before it is closed (sshd's MaxAuthTries). */
  authTries: number;
  /** Wall ms a connection has to authenticate (sshd's LoginGraceTime). */
  loginGraceMs: number;
  limiter: LimiterOptions;
  /** Offer the read-only listings to exec requests (else every exec is refused). */
  exec: boolean;
  /** Bytes queued for one client above which its session is closed. */
  hardBacklog?: number;
  /** A line for the operator running the server (stderr, or nowhere under --console). */
  log: (line: string) => void;
  /** An event for the audit file (auth failures, logins, refusals). */
  event: (e: Record<string, unknown>) => void;
}

export interface SshCounters {
  connections: number;
  logins: number;
  failedLogins: number;
  blockedConnections: number;
  refusedSessions: number;
  execs: number;
  overflows: number;
}

interface ConnState {
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
  handles: Set<UiHandle>;
}

export class SshServer {
  private readonly net: NetServer;
  private readonly ssh: InstanceType<typeof Server>;
  readonly limiter: AuthLimiter;
  private open = new Set<Socket>();
  /** Sockets whose client has authenticated (the login grace timer leaves them alone). */
  private readonly authed = new WeakSet<Socket>();
  private keysCache: {sig: string; keys: AuthorizedKeys} | null = null;
  readonly counters: SshCounters = {connections: 0, logins: 0, failedLogins: 0, blockedConnections: 0, refusedSessions: 0, execs: 0, overflows: 0};
  private readonly hard: number;

  constructor(private readonly host: DeckHost, private readonly o: SshServerOptions) {
    this.limiter = new AuthLimiter(o.limiter);
    this.hard = o.hardBacklog ?? 4 * 1024 * 1024;
    this.ssh = new Server({hostKeys: [o.hostKey], ident: 'lvsdeck'}, (client, info) => this.onClient(client, info.ip, info.port));
    this.ssh.on('error', (err: Error) => o.log(`ssh: ${err.message}`));
    this.net = createServer((sock) => this.onSocket(sock));
    this.net.on('error', (err) => o.log(`listen: ${err.message}`));
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
    for (const s of this.open) s.destroy();
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
    if (sig === 'missing') this.o.log(`authorized keys ${this.o.authorizedKeysPath}: missing, nobody can log in`);
    else {
      try {
        keys = parseAuthorizedKeys(readFileSync(this.o.authorizedKeysPath, 'utf8'));
      } catch (err) {
        this.o.log(`authorized keys ${this.o.authorizedKeysPath}: ${(err as Error).message}`);
      }
      for (const w of keys.warnings) this.o.log(`${this.o.authorizedKeysPath}:${w.line}: ${w.message}`);
      const roles = keys.keys.map((k) => `${k.name}=${k.role}`).join(', ');
      this.o.log(`authorized keys: ${keys.keys.length} loaded${roles ? ` (${roles})` : ''}`);
    }
    this.keysCache = {sig, keys};
    return keys;
  }

  private onSocket(sock: Socket): void {
    const ip = sock.remoteAddress ?? '?';
    const chk = this.limiter.check(ip);
    if (chk.blocked) {
      this.counters.blockedConnections++;
      if (chk.refused === 1 || chk.refused % 100 === 0) {
        this.o.log(`${ip}: blocked for ${Math.ceil(chk.retryMs / 1000)} s more after failed logins (${chk.refused} refused)`);
      }
      sock.destroy();
      return;
    }
    if (this.open.size >= this.o.maxConns) {
      this.o.log(`${ip}: refused, ${this.open.size} connections open (--max-conns ${this.o.maxConns})`);
      sock.destroy();
      return;
    }
    this.open.add(sock);
    sock.once('close', () => this.open.delete(sock));
    sock.on('error', () => { /* ECONNRESET and friends: the close handler cleans up */ });
    sock.setKeepAlive(true, 30_000);
    sock.setNoDelay(true);
    // sshd's LoginGraceTime, from the TCP accept: also for a peer that never says a word
    const grace = setTimeout(() => {
      if (!this.authed.has(sock)) sock.destroy();
    }, this.o.loginGraceMs);
    sock.once('close', () => clearTimeout(grace));
    this.counters.connections++;
    this.ssh.injectSocket(sock);
  }

  private onClient(client: Connection, ip: string, port: number): void {
    const st: ConnState = {
      ip, port, from: `ssh ${ip.replace(/^::ffff:/, '')}:${port}`, username: '', methods: new Set(), offered: new Set(),
      tries: 0, why: [], key: null, ready: false, handles: new Set(),
    };
    // mandatory: an unhandled 'error' (ECONNRESET) would take the whole server down
    client.on('error', () => { /* the close handler cleans up */ });
    client.on('authentication', (ctx) => this.onAuth(client, st, ctx));
    client.on('ready', () => {
      const sock = (client as unknown as {_sock?: Socket})._sock;
      if (sock) this.authed.add(sock);
      st.ready = true;
      this.counters.logins++;
      const k = st.key!;
      this.o.event({event: 'login', user: k.name, role: k.role, key: k.fingerprint, from: st.from, username: st.username});
      this.o.log(`login: ${k.name} (${k.role}) from ${st.from}`);
      client.on('session', (accept) => this.onSession(client, st, accept()));
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
    this.o.log(`failed login from ${st.ip}:${st.port} as '${st.username}' (${e.methods.join(',')}): ${e.reason}` +
      (r.blocked ? `; ${st.ip} blocked for ${Math.round(this.o.limiter.cooldownMs / 1000)} s` : ''));
  }

  private onAuth(client: Connection, st: ConnState, ctx: AuthContext): void {
    st.username = ctx.username.slice(0, 64);
    st.methods.add(ctx.method);
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
      reject(ctx.method === 'none' ? undefined : `${ctx.method} authentication is not offered`);
      return;
    }
    const offered = ctx.key.data;
    const fp = fingerprint(offered);
    st.offered.add(fp);
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

  private onSession(client: Connection, st: ConnState, session: Session): void {
    const key = st.key!;
    let pty: PtyInfo | null = null;
    let ui: {out: SshTtyOut; handle: UiHandle} | null = null;
    session.on('pty', (accept, reject, info) => {
      if (key.noPty) { reject?.(); return; }
      pty = {cols: info.cols, rows: info.rows, term: info.term};
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (ui) ui.out.resize(info.cols, info.rows);
      else if (pty) { pty.cols = info.cols; pty.rows = info.rows; }
      accept?.();
    });
    session.on('env', (accept) => accept?.()); // accepted and ignored (LANG, TERM...)
    session.on('signal', (accept) => accept?.());
    session.on('shell', (accept) => {
      const ch = accept();
      ch.on('error', () => { /* closed under us */ });
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
        this.o.log(`session refused: ${key.name} from ${st.from}: ${refusal}`);
        this.finishChannel(ch, `lvsdeck: ${refusal}`, 1, true);
        return;
      }
      ui = this.startUi(client, st, ch, pty);
    });
    session.on('exec', (accept, _reject, info) => {
      const ch = accept();
      ch.on('error', () => { /* closed under us */ });
      this.exec(ch, st, key.command ?? info.command, pty !== null, key.command !== null);
    });
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
    const r = runExec(command, {
      engine: this.host.o.sim.engine, peers: () => this.host.presence.list(), audit: () => this.host.audit.list(),
    });
    this.o.event({event: 'exec', user: key.name, role: key.role, key: key.fingerprint, from: st.from, command: command.slice(0, 200), code: r.code});
    const fix = (s: string) => (tty ? s.replace(/\r?\n/g, '\r\n') : s);
    if (r.stdout) ch.write(fix(r.stdout));
    if (r.stderr) ch.stderr.write(fix(r.stderr));
    ch.exit(r.code);
    ch.end();
  }

  private startUi(client: Connection, st: ConnState, ch: ServerChannel, pty: PtyInfo): {out: SshTtyOut; handle: UiHandle} {
    const key = st.key!;
    const sock = (client as unknown as {_sock?: Socket})._sock;
    const backlog = () => ch.writableLength + (sock?.writableLength ?? 0);
    let overflowed = false;
    let handle: UiHandle | null = null;
    const out = new SshTtyOut(ch, pty, (len) => {
      if (backlog() + len <= this.hard) return true;
      if (!overflowed) {
        overflowed = true;
        this.counters.overflows++;
        this.o.log(`session of ${key.name} from ${st.from}: client not reading (${backlog()} bytes queued), closing it`);
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
      stdout: out as unknown as NodeJS.WriteStream, stdin: asTtyIn(ch), backlog,
      message: `${key.name}: ${key.role} role · ${this.host.presence.size + 1} connected · 7 shows who and the audit`,
    });
    const h = handle;
    st.handles.add(h);
    h.onClose((reason) => {
      st.handles.delete(h);
      this.o.log(`session ${h.id} closed: ${key.name} from ${st.from} (${reason}); ${this.host.presence.size} open`);
      if (reason !== 'disconnected' && reason !== 'client not reading' && ch.writable) {
        ch.write(LEAVE_SCREEN + (reason === 'quit' ? '' : `lvsdeck: ${reason}\r\n`));
        ch.exit(0);
        ch.end();
      }
    });
    ch.on('close', () => this.host.close(h, 'disconnected'));
    this.o.log(`session ${h.id} opened: ${key.name} (${key.role}) from ${st.from} ${pty.cols}x${pty.rows}; ${this.host.presence.size} open`);
    return {out, handle: h};
  }
}
