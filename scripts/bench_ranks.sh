#!/usr/bin/env bash
# Data-parallel training throughput, side by side in one run on this machine: the
# default recipe on LFW (minus the pairsDevTest people) for a few epochs as
#   1 process x all cores (steps of 2 batches: --accumulate 2, the same global batch as 2 ranks),
#   2 ranks x half the cores (--nproc 2: c10d/Gloo over loopback),
#   4 ranks (--nproc 4; oversubscribed on 2 cores: it proves the protocol, not speed),
# alternating the first two ROUNDS times. Prints one table: images/s of the last epoch, the best
# validation AUC reached, rank 0's peak RSS, the wall time.
#   scripts/bench_ranks.sh [EPOCHS=2] [ROUNDS=2]     (build first; data: $FACEID_DATA)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2} rounds=${2:-2}
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
bin=build/bin
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$bin/faceprep" --lfw "$data/lfw" --self "$data/owners/stads/anchor" -q > /dev/null  # a warm face cache
rows=()
run() {  # run LABEL FLAGS...
  local label=$1 n=${#rows[@]}; shift
  local start; start=$(date +%s.%N)
  echo "+ facetrain $* ($label)" >&2
  "$bin/facetrain" --lfw "$data/lfw" --self "$data/owners/stads/anchor" \
    --exclude-pairs "$data/lfw_pairs/pairsDevTest.txt" --time-budget 0 --epochs "$epochs" --min-owner-tar 0 \
    -o "$work/m$n" --run-dir "$work/r$n" --json -q "$@" > "$work/s$n.json"
  local wall; wall=$(echo "$(date +%s.%N) - $start" | bc)
  rows+=("$(python3 - "$work/r$n/metrics.csv" "$work/s$n.json" "$label" "$wall" <<'PY'
import csv, json, sys
m = list(csv.DictReader(open(sys.argv[1])))
s = json.load(open(sys.argv[2]))
print(f"| {sys.argv[3]} | {float(m[-1]['images_per_second']):.0f} | "
      f"{max(float(r['val_auc']) for r in m):.3f} | {s['peak_rss_mb']:.0f} | {float(sys.argv[4]):.0f} |")
PY
)")
}
for _ in $(seq 1 "$rounds"); do
  run "1 process x $(nproc) threads, --accumulate 2" --accumulate 2
  run "2 ranks x $(($(nproc) / 2 > 0 ? $(nproc) / 2 : 1)) thread(s) (--nproc 2)" --nproc 2
done
run "4 ranks (--nproc 4)" --nproc 4

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo
echo "CPU: $cpu, $(nproc) cores; BLAS: OpenBLAS, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset (the tools pick SkylakeX on AVX-512)}"
echo "facetrain default recipe, $epochs epochs, LFW minus the pairsDevTest people; images/s of the last epoch"
echo
echo "| run | images/s | best val AUC | rank 0 peak RSS MB | wall s |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
