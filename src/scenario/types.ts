// The validated form of a scenario file (docs/scenario-format.md). Times are milliseconds of
// virtual time; every item keeps its position in the file for error messages.
import type {Addr, Af} from '../engine/addr.js';
import type {Pos, TrafficEntry} from '../traffic/hook.js';

export type {Pos, TrafficEntry};

/** A scenario problem, printed as FILE:LINE:COL: message. */
export class ScenarioError extends Error {
  constructor(message: string, readonly pos?: Pos, readonly file?: string) {
    super(message);
    this.name = 'ScenarioError';
  }

  format(defaultFile = ''): string {
    const f = this.file ?? defaultFile;
    const where = this.pos ? `${f}:${this.pos.line}:${this.pos.col}` : f;
    return where ? `${where}: ${this.message}` : this.message;
  }
}

export interface Endpoint {
  af: Af;
  addr: Addr;
  port: number;
  text: string;
}

export interface SysctlSetting {
  /** Tunable name (short form). */
  name: string;
  value: string;
  pos: Pos;
}

export interface RuleLine {
  words: string[];
  text: string;
  pos: Pos;
}

export type ReportItem =
  | {kind: 'ipvsadm'; args: string[]; command: string; pos: Pos}
  | {kind: 'sysctl'; args: string[]; command: string; pos: Pos}
  | {kind: 'proc'; path: string; command: string; pos: Pos};

export interface IcmpSpec {
  type: number;
  code: number;
  about: {proto: string; src: string; dst: string; flags?: string};
  checksumOk: boolean;
}

export interface PacketItem {
  index: number;
  at: number;
  proto: string;
  src: string;
  dst: string;
  flags?: string;
  len?: number;
  chunk?: string;
  nextChunk?: string;
  fwmark?: number;
  df?: boolean;
  dir?: 'in' | 'out';
  icmp?: IcmpSpec;
  pos: Pos;
}

export type CloseMode = 'client' | 'server' | 'hold' | 'reset';

export interface SessionItem {
  index: number;
  at: number;
  proto: 'tcp' | 'udp' | 'sctp';
  client: Endpoint;
  to: Endpoint;
  request: number;
  response: number;
  close: CloseMode;
  rtt: number;
  pause: number;
  repeat: number;
  every: number;
  fwmark: number;
  pos: Pos;
}

export type ActionItem =
  | {index: number; at: number; kind: 'ipvsadm'; commands: RuleLine[]; pos: Pos}
  | {index: number; at: number; kind: 'sysctl'; settings: SysctlSetting[]; pos: Pos}
  | {index: number; at: number; kind: 'report'; items: ReportItem[]; pos: Pos};


export interface Scenario {
  file: string;
  name: string;
  description: string;
  seed: number;
  memory: {totalBytes: number; usedBytes: number} | null;
  until: number | null;
  sysctl: SysctlSetting[];
  rules: RuleLine[];
  packets: PacketItem[];
  sessions: SessionItem[];
  traffic: TrafficEntry[];
  events: TrafficEntry[];
  actions: ActionItem[];
  report: ReportItem[];
}
