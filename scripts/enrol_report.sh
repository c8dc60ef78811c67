#!/usr/bin/env bash
# The enrolment measured (docs/enrol.md), on a library nobody labelled built from the shared data
# (scripts/enrol_library.py: the owner's two days, oshoura, 300 LFW people, the group photos, two
# broken files; 5 seeds of the first day):
#   1. faceenroll scan, cold (empty caches) and warm, with the first model: seconds, peak RSS, and
#      the proposal scored against the truth (scripts/enrol_score.py);
#   2. the clustering methods and cuts side by side (warm);
#   3. for each model: the proposal confirmed whole; the owner's new day (2022-09-10, the photos not
#      among its enrolled references) against every face of the pairsDevTest people, with the
#      references enrolled from both days vs from the first day only (faceeval owner).
#   4. the same for oshoura, a second owner never trained on (two days, dated by their file times).
#   scripts/enrol_report.sh [OUT] [MODEL...]   (default OUT runs/enrol; MODELS: the default recipe's
#   three seeds in runs/pretrained_cohort/head_s{1,2,3}/model; LFW_PEOPLE, SEED for the library;
#   STEPS="1 2 3" to run only some parts; ENROL_MODEL: enrol with this model, test the others)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/enrol}
shift $(( $# > 0 ? 1 : 0 ))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(runs/pretrained_cohort/head_s{1,2,3}/model)
data=$(cd "${FACEID_DATA:-../shared/data}" && pwd)
export FACEID_DATA=$data
bin=build/bin
lib=$out/library
mkdir -p "$out"
[ -d "$lib/library" ] ||
  python3 scripts/enrol_library.py "$lib" --lfw-people "${LFW_PEOPLE:-300}" --seed "${SEED:-1}" --data "$data"
export FACEID_CACHE=$out/cache
summary=$out/summary.md
{
  echo "# faceenroll on $(grep -c . <(ls "$lib/library")) photos, $(date -u +%Y-%m-%d)"
  echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; BLAS: OpenBLAS ${OPENBLAS_CORETYPE:-SkylakeX kernels where AVX-512 (the tools choose them)}"
} > "$summary"

scan() {  # scan NAME MODEL [FLAGS...]: faceenroll scan into $out/NAME, timed
  local name=$1 model=$2; shift 2
  /usr/bin/time -v "$bin/faceenroll" scan "$lib/library" --seeds "$lib/seeds" -m "$model" \
    -o "$out/$name" -q "$@" > "$out/$name.txt" 2> "$out/$name.time" || [ $? -eq 1 ]
  python3 - "$out/$name.time" "$out/$name/proposal.json" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
secs = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
s = json.load(open(sys.argv[2]))["scan"]
print(f"{s['photos']} photos ({s['detected']} detected now), {s['faces']} faces: {secs:.1f} s wall "
      f"= {1000 * secs / s['photos']:.1f} s per 1,000 photos (detect {s['seconds']['detect']:.1f} s, "
      f"embed {s['seconds']['embed']:.1f} s, group {s['seconds']['cluster']:.1f} s); peak RSS {rss:.0f} MiB")
PY
}

step() { [[ " ${STEPS:-1 2 3} " == *" $1 "* ]]; }

if step 1; then
echo "== 1. cold and warm"
rm -rf "$out/cache"
{ echo; echo "## Cold (empty caches) and warm, ${models[0]}"; echo
  echo "- cold: $(scan scan_cold "${models[0]}")"
  echo "- warm: $(scan scan_warm "${models[0]}")"; echo
  python3 scripts/enrol_score.py "$out/scan_warm/proposal.json" "$lib/truth.json"; } >> "$summary"

fi

if step 2; then
echo "== 2. clustering methods and cuts"
{ echo; echo "## Methods and cuts (${models[0]}; the default cut is the seeds' detection threshold)"; echo
  echo "| method | cut | groups | owner precision | owner recall | LFW pairwise precision | LFW pairwise recall |"
  echo "|---|---|---|---|---|---|---|"; } >> "$summary"
for method in average whispers; do
  for cut in default 0.955 0.96 0.965 0.97 0.975; do
    flags=(--cluster "$method"); [ "$cut" = default ] || flags+=(--cut "$cut")
    scan "grid_${method}_$cut" "${models[0]}" "${flags[@]}" > /dev/null
    python3 scripts/enrol_score.py "$out/grid_${method}_$cut/proposal.json" "$lib/truth.json" --json |
      python3 -c 'import json, sys
j = json.load(sys.stdin)
o, c, g = j["owner"][0], j["clustering_lfw"], j["groups"]
print("| %s | %.4f | %d | %s (%d/%d) | %s | %s | %s |" % (g["method"], g["cut"], g["count"],
      o["precision"], o["correct"], o["proposed"], o["recall"], c["precision"], c["recall"]))' >> "$summary"
  done
done

fi

if step 3; then
echo "== 3. the owner's new day, references enrolled from both days vs the first only"
{ echo; echo "## A new day vs every face of the pairsDevTest people, references enrolled from both days or the first"; echo
  echo "Cells: accepted by the rule fitted to the references (strangers it accepted) · TAR at FAR <= 0.001 chosen on those strangers."
  echo "Probes: the new day's photos not among its enrolled references (the originals)."; echo
  echo "| owner | model | faces proposed (correct) | references: both days | references: first day only |"
  echo "|---|---|---|---|---|"; } >> "$summary"
# The seeds of oshoura, the second owner: 5 photos of her first day (dated by their file time).
python3 - "$lib" "$out/seeds_oshoura" <<'PY'
import json, os, random, shutil, sys
lib, seeds = sys.argv[1:3]
truth = json.load(open(f"{lib}/truth.json"))
first = sorted(n for n, t in truth.items() if t["identity"] == "oshoura" and t["day"] == "2022-11-23")
shutil.rmtree(seeds, ignore_errors=True); os.makedirs(seeds)
for n in random.Random(1).sample(first, 5):
    shutil.copy2(f"{lib}/library/{n}", f"{seeds}/{n}")
PY

new_day_row() {  # new_day_row OWNER SEEDS FIRST_DAY NEW_DAY MODEL RUN
  local owner=$1 seeds=$2 first=$3 new=$4 model=$5 run=$6 refs name
  rm -rf "$run" && mkdir -p "$run"
  # ENROL_MODEL enrols with another model than the one tested (a weak model's groups are poor).
  "$bin/faceenroll" scan "$lib/library" --seeds "$seeds" -m "${ENROL_MODEL:-$model}" -o "$run/scan" -q > /dev/null
  "$bin/faceenroll" confirm "$run/scan/proposal.json" --into "$run/enrolled" -q > /dev/null
  # The probes: the originals of the new day's photos not among its enrolled references.
  local proposed; proposed=$(python3 - "$lib/truth.json" "$run" "$data" "$owner" "$first" "$new" <<'PY'
import json, os, sys
truth, run, data, owner, first, new = json.load(open(sys.argv[1])), *sys.argv[2:]
refs = {n.rsplit("_", 1)[0] for n in os.listdir(f"{run}/enrolled/references/{new}")}
os.makedirs(f"{run}/probes"); os.makedirs(f"{run}/refs_first")
os.symlink(os.path.abspath(f"{run}/enrolled/references/{first}"), f"{run}/refs_first/{first}")
for name, t in truth.items():
    if t["identity"] == owner and t.get("day") == new and os.path.splitext(name)[0] not in refs:
        os.symlink(os.path.join(data, t["source"]), f"{run}/probes/{name}")
p = json.load(open(f"{run}/scan/proposal.json"))
ids = [i for d in p["owner"]["days"] for i in d["faces"]]
right = sum(truth[os.path.basename(p["faces"][i]["file"])]["identity"] == owner for i in ids)
total = sum(t["identity"] == owner for t in truth.values())
print(f"{len(ids)} ({right}) of {total}")
PY
)
  local cells=()
  for refs in "$run/enrolled/references" "$run/refs_first"; do
    name=$(basename "$refs")
    "$bin/faceeval" owner --model "$model" --refs "$refs" "$run/probes" --strangers "$data/lfw" \
      --strangers-pairs "$data/lfw_pairs/pairsDevTest.txt" --max-strangers 100000 --out "$run/eval_$name" -q > /dev/null
    cells+=("$(python3 - "$run/eval_$name/owner_report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r["systems"][0]; f = s["for_target_far"]
print(f"{s['owner_accepted']}/{r['owner_faces']} ({s['strangers_accepted']}/{r['stranger_faces']}) · {f['owner_accepted']}/{r['owner_faces']}")
PY
)")
  done
  echo "| $owner | $model | $proposed | ${cells[0]} | ${cells[1]} |" >> "$summary"
}
i=0
for model in "${models[@]}"; do
  i=$((i + 1))
  new_day_row stads "$lib/seeds" 2022-09-07 2022-09-10 "$model" "$out/stads_$i"
  new_day_row oshoura "$out/seeds_oshoura" 2022-11-23 2022-12-06 "$model" "$out/oshoura_$i"
done
fi
cat "$summary"
