// ipvsadm and sysctl for the in-process engine: syntax, listings, save/restore, procfs views and
// the state file of the CLI.
export {runIpvsadm, restoreLines, serviceKeyOf, acceptedSchedulers, type IpvsadmResult} from './exec.js';
export {parseIpvsadm, splitWords, CMD, OPT, type ParsedCommand} from './parse.js';
export {IpvsadmExit} from './errors.js';
export {listAll, listConn, listDaemon, listTimeout, saveRules, listedServices, addrportName, schedFlagNames} from './listing.js';
export {PROC_FILES, procIpVs, procIpVsConn, procIpVsConnSync, procIpVsStats, procIpVsStatsPercpu, procConnEntries, expiresSeconds, connVirtualAddr, fwdName} from './proc.js';
export {runSysctl, sysctlAll, sysctlLine, tunableName, SYSCTL_PREFIX} from './sysctl.js';
export {captureState, engineFromState, loadStateFile, saveStateFile, defaultStatePath, StateError, STATE_VERSION} from './state.js';
export {largenum, mmss, ipv6Full} from './format.js';
