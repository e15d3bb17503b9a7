// Headless scenario runs: YAML scenario files, sessions, the runner on virtual time, --trace and
// the JSON output.
export {parseScenario, parseReportItem} from './load.js';
export {runScenario, renderText, evalReport, type RunResult, type RunOptions, type SessionSummary, type OutputBlock} from './runner.js';
export {runJson, RUN_SCHEMA, tunablesJson} from './json.js';
export {planSession, retransmitDelay, type Flight} from './sessions.js';
export {sendPacket, traceLine, noteLine, type PacketRecord} from './trace.js';
export {registerTrafficHook, getTrafficHook, loadTrafficHook, type TrafficHook, type TrafficDriver, type TrafficContext} from './traffic-hook.js';
export {parseTime, parseSize, fmtSeconds, UnitError} from './units.js';
export {ScenarioError, type Scenario, type Pos, type TrafficEntry} from './types.js';
