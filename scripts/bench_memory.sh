#!/usr/bin/env bash
# Memory of training as the face set grows, side by side in one run on this machine:
# facetrain's peak RSS with LFW (minus the pairsDevTest people) as the strangers, and with a
# synthetic folder-per-person set of FACES faces instead (`facebench --what synth`: augmented
# copies of LFW's cached chips written into the set's face cache, 10 photos per person; ~30 KB
# per face at 100 px, so 200,000 faces are a 6 GB cache file). The same short run each
# (--time-budget MINUTES, then validation and calibration). Training reads each batch's chips
# from the cache files, so the difference is the per-face bookkeeping (paths, pool, sampler) and
# the identity weights (one row per training person), not the pixels.
#   scripts/bench_memory.sh [FACES=200000] [MINUTES=2] [SYNTH_DIR=/tmp/faceid-synth-FACES]
# The synthetic set and its cache file are kept for another run: the script says where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
faces=${1:-200000} minutes=${2:-2}
synth=${3:-${TMPDIR:-/tmp}/faceid-synth-$faces}
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
bin=build/bin
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$bin/faceprep" --lfw "$data/lfw" --self "$data/owners/stads/anchor" -q > /dev/null  # a warm face cache
if [ ! -d "$synth" ]; then
  echo "+ facebench --what synth --faces $faces --out $synth" >&2
  "$bin/facebench" --what synth --lfw "$data/lfw" --out "$synth" --faces "$faces" -q > "$work/synth.json"
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(f\"synthetic set: {j['faces']} faces, {j['people']} people, cache {j['cache_file']} ({j['cache_bytes']/1e9:.1f} GB), {j['seconds']:.0f} s\")" "$work/synth.json" >&2
fi
rows=()
run() {  # run LABEL FLAGS...
  local label=$1 n=${#rows[@]}; shift
  echo "+ facetrain $* ($label)" >&2
  "$bin/facetrain" --self "$data/owners/stads/anchor" --time-budget "$minutes" --min-owner-tar 0 \
    -o "$work/m$n" --run-dir "$work/r$n" --json -q "$@" > "$work/s$n.json"
  rows+=("$(python3 - "$work/r$n/metrics.csv" "$work/s$n.json" "$work/m$n/model.json" "$label" <<'PY'
import csv, json, sys
m = list(csv.DictReader(open(sys.argv[1])))
s = json.load(open(sys.argv[2]))
t = json.load(open(sys.argv[3]))["training"]
print(f"| {sys.argv[4]} | {t['faces_train'] + t['faces_val']:,} | {t['people_train']:,} | {len(m)} | "
      f"{float(m[-1]['images_per_second']):.0f} | {s['peak_rss_mb']:.0f} |")
PY
)")
}
run "LFW (--lfw, minus pairsDevTest)" --lfw "$data/lfw" --exclude-pairs "$data/lfw_pairs/pairsDevTest.txt"
run "synthetic, $faces faces (--faces)" --faces "$synth"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo
echo "CPU: $cpu, $(nproc) cores; BLAS: OpenBLAS, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset (the tools pick SkylakeX on AVX-512)}"
echo "facetrain default recipe, --time-budget $minutes, the owner = owners/stads/anchor"
echo
echo "| strangers | faces | training people | epochs | images/s | peak RSS MB |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "(the synthetic set stays for another run: rm -rf $synth and its cache file under \${FACEID_CACHE:-~/.cache/faceid})"
