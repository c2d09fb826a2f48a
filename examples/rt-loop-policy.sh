#!/bin/sh
# A 1 kHz policy loop: a 32-128-8 MLP stands in for policy inference,
# pinned to the last CPU at SCHED_FIFO 80 with its memory locked, and a
# 2 kHz watchdog reports a stalled loop as a record. Without the privilege
# for SCHED_FIFO it still runs, and its records say so.
# Usage: rt-loop-policy.sh [duration]   (default 5s)
cpu=$(($(getconf _NPROCESSORS_ONLN) - 1))
exec rt-loop -f 1000 -D "${1:-5s}" -p 80 -a "$cpu" --mlock \
    --workload mlp:32,128,8 --monitor-hz 2000 --report-interval 1s
