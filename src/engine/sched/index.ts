// Importing this module registers every built-in scheduler.
import './rr.js';
import './wrr.js';
import './lc.js';
import './wlc.js';
import './sed.js';
import './nq.js';
import './dh.js';
import './sh.js';
import './lblc.js';
import './lblcr.js';
import './mh.js';
import './fo.js';
import './ovf.js';
import './twos.js';
export {findScheduler, schedulerNames, registerScheduler} from './registry.js';
