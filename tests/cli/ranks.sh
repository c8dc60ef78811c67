#!/usr/bin/env bash
# facetrain data-parallel (c10d/Gloo): --nproc 2 trains and writes one bundle (rank 0); Ctrl-C
# stops every rank with a checkpoint (exit 130) that --resume --nproc 2 continues; a killed rank
# makes the others exit instead of hanging; --nproc inside a launched rank is a usage error.
# Tiny training (seconds).
#   ranks.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor

mkdir -p "$tmp/lfw" "$tmp/owner"
link_lfw "$tmp/lfw" 6 "${tiny_people[@]}"
link_photos "$tmp/owner" "$data/owners/stads/anchor" 12
tiny=(--lfw "$tmp/lfw" --self "$tmp/owner" --arch koch-small --chip-size 80 --embedding-size 32 --time-budget 0
      --batch-people 4 --batch-photos 2 --val-pairs 16 --val-fraction 0.3 --lr 1e-3 --references 4 --min-owner-tar 0)
"$bin/faceprep" --lfw "$tmp/lfw" --self "$tmp/owner" -q > /dev/null  # a warm cache: the ranks start together

check two_ranks 0 "model +$tmp/m1" -- "$bin/facetrain" "${tiny[@]}" --epochs 2 -o "$tmp/m1" --run-dir "$tmp/r1" --nproc 2
if python3 - "$tmp/r1" "$tmp/m1" <<'PY'
import json, sys
run, model = sys.argv[1:]
assert json.load(open(run + "/params.json"))["ranks"] == 2
assert json.load(open(model + "/model.json"))["training"]["epochs_run"] == 2
lines = open(run + "/metrics.csv").read().splitlines()
assert len(lines) == 3, lines          # a header and two epochs: rank 0 alone writes
log = open(run + "/train.log").read()
assert "x 2 ranks" in log and log.count("epoch   1 ") == 1, log
PY
then echo "ok   two_ranks_outputs"; else echo "FAIL two_ranks_outputs"; fails=$((fails+1)); fi

# `start_run NAME` starts a long --nproc 2 run in the background ($run_pid) and waits for epoch 2.
start_run() {
  "$bin/facetrain" "${tiny[@]}" --epochs 100000 -o "$tmp/m_$1" --run-dir "$tmp/r_$1" --nproc 2 > "$tmp/$1.out" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 1200); do grep -q "epoch   2 " "$tmp/$1.out" && return 0; sleep 0.1; done
  echo "FAIL $1: no epoch 2 in 120 s"; tail -5 "$tmp/$1.out"; fails=$((fails+1)); return 1
}
# `wait_run NAME CODE`: the run ends within 60 s with CODE and no rank is left.
wait_run() {
  local waited=0
  while kill -0 "$run_pid" 2> /dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited+1)); done
  if kill -0 "$run_pid" 2> /dev/null; then
    echo "FAIL $1: still running after 60 s"; pkill -9 -f "$tmp/r_$1"; fails=$((fails+1)); return 1
  fi
  wait "$run_pid"; local got=$?
  sleep 0.5
  if [ "$got" -ne "$2" ] || pgrep -f "$tmp/r_$1" > /dev/null; then
    echo "FAIL $1: exit $got (expected $2), ranks left: $(pgrep -f "$tmp/r_$1" | wc -l)"; tail -5 "$tmp/$1.out"; fails=$((fails+1)); return 1
  fi
  echo "ok   $1 (exit $got)"
}

if start_run interrupt; then
  kill -INT "$run_pid"
  wait_run interrupt 130 && grep -q "continue with --resume" "$tmp/interrupt.out" && [ -f "$tmp/r_interrupt/checkpoint.pt" ] ||
    { echo "FAIL interrupt_checkpoint"; fails=$((fails+1)); }
  epochs=$(grep -c '^[0-9]' "$tmp/r_interrupt/metrics.csv")
  check resume 0 "resuming at epoch [0-9]+ step [0-9]+" -- "$bin/facetrain" "${tiny[@]}" --epochs $((epochs + 1)) -o "$tmp/m_interrupt" \
    --run-dir "$tmp/r_interrupt" --nproc 2 --resume
fi

if start_run term; then  # a scheduler's stop: checkpoint and exit 130, as Ctrl-C
  kill -TERM "$run_pid"
  wait_run term 130 && [ -f "$tmp/r_term/checkpoint.pt" ] || { echo "FAIL term_checkpoint"; fails=$((fails+1)); }
fi

if start_run killed; then
  for child in $(pgrep -P "$run_pid"); do
    tr '\0' '\n' < "/proc/$child/environ" | grep -qx "RANK=1" && kill -9 "$child"
  done
  wait_run killed 5 && grep -q "rank 1 was killed by signal 9" "$tmp/killed.out" && [ -f "$tmp/r_killed/checkpoint.pt" ] &&
    grep -q "^error: data-parallel .* failed (another rank stopped" "$tmp/killed.out" ||
    { echo "FAIL killed_messages"; tail -5 "$tmp/killed.out"; fails=$((fails+1)); }
fi

# Two ranks started by hand (as a launcher would) on different data refuse to train.
mkdir -p "$tmp/lfw_other"; link_lfw "$tmp/lfw_other" 6 "${tiny_people[@]:0:10}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env WORLD_SIZE=2 RANK=1 MASTER_PORT=$port "$bin/facetrain" "${tiny[@]/#$tmp\/lfw/$tmp/lfw_other}" -o "$tmp/m8" > "$tmp/rank1.out" 2>&1 &
rank1=$!
check ranks_disagree 2 "^error: the ranks disagree on the training data" -- \
  env WORLD_SIZE=2 RANK=0 MASTER_PORT=$port "$bin/facetrain" "${tiny[@]}" -o "$tmp/m8" --run-dir "$tmp/r8"
wait $rank1; got=$?
[ "$got" -eq 2 ] && grep -q "^error: the ranks disagree" "$tmp/rank1.out" && echo "ok   ranks_disagree_rank1 (exit 2)" ||
  { echo "FAIL ranks_disagree_rank1: exit $got"; tail -3 "$tmp/rank1.out"; fails=$((fails+1)); }

check nested_nproc 2 "^error: --nproc 2: this is already rank 0 of a run of 2" -- \
  env WORLD_SIZE=2 RANK=0 "$bin/facetrain" "${tiny[@]}" -o "$tmp/m5" --run-dir "$tmp/r5" --nproc 2
check bad_rank 2 "^error: RANK=2 but WORLD_SIZE=2" -- \
  env WORLD_SIZE=2 RANK=2 "$bin/facetrain" "${tiny[@]}" -o "$tmp/m6" --run-dir "$tmp/r6"
check no_rendezvous 5 "^error: rank 1 of 2: cannot join the run at 127.0.0.1:1:" -- \
  env WORLD_SIZE=2 RANK=1 MASTER_PORT=1 "$bin/facetrain" "${tiny[@]}" -o "$tmp/m7" --run-dir "$tmp/r7" --rank-timeout 2

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
