#!/bin/bash
# CPU of the live UI: the real binary in tmux for 14 s (the first 3 s are not counted), with a
# view selected and optional speed keys, e.g.  bench/ui-cpu.sh 140 45 3 "> > >"  (Connections at x10).
# Prints the app's --perf-file summary: cpuPercent of one core, frames drawn, Ink ms per frame.
# usage: ui-cpu.sh COLS ROWS VIEWKEY SPEEDKEYS [extra lvsdeck args]
S=uicpu-$$
cols=$1 rows=$2 view=$3 speedkeys=$4; shift 4
rm -f /tmp/ui-cpu-$S.json
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmux new-session -d -s $S -x $cols -y $rows "cd $ROOT && env -u CI -u NODE_ENV node bin/lvsdeck.js --perf-file /tmp/ui-cpu-$S.json --quit-after 14 $*; sleep 20"
sleep 2.5
tmux send-keys -t $S $view
for k in $speedkeys; do tmux send-keys -t $S "$k"; done
for i in $(seq 40); do [ -s /tmp/ui-cpu-$S.json ] && break; sleep 0.5; done
cat /tmp/ui-cpu-$S.json
tmux kill-session -t $S
