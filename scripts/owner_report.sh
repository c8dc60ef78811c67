#!/usr/bin/env bash
# The owner's own model against the reference rule, for a general
# model BASE (e.g. models/stads, trained on owners/stads/anchor):
# owners/stads/positive is split by capture time (scripts/split_sessions.py) into the 199 photos
# taken minutes after anchor (SAME_EVENING) and the 98 taken three days later (NEW_DAY):
#   1. train on owners/stads/anchor, test on SAME_EVENING and on NEW_DAY
#   2. the days swapped: train on NEW_DAY, test on anchor and on SAME_EVENING
#   3. both days as --self (anchor, NEW_DAY): the session rule holds one out; tested on NEW_DAY
#   4. owners/oshoura (two days, 9 + 41 photos, as one folder): the tool's reliability warning and
#      its held-out numbers
# Strangers: every face of the pairsDevTest people (never trained on) plus the two photos of
# owners/stads/impostors. The reference rule is BASE's, with the owner photos held out by the same
# owner-only run as references (--fill-refs). Each case for --fine-tune none and last.
# Everything runs niced with --threads 1 (shared machine: times are noisy).
#   [OWNER_FIT=centroid|bce] scripts/owner_report.sh BASE [OUT] [FINE_TUNE...]
#   (default OUT runs/owner_report, FINE_TUNE "none last"; OWNER_FIT unset: facetrain's default fit)
# Writes OUT/<case>_<fine-tune>/{model,run,refs,eval_<probes>}, OUT/<case>_<fine-tune>_<probes>.txt and OUT/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/owner_report.sh BASE_MODEL [OUT] [FINE_TUNE...]}
out=${2:-runs/owner_report}
shift $(( $# >= 2 ? 2 : 1 ))
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(none last)
data=${FACEID_DATA:-../shared/data}
bin=build/bin
pairs=$data/lfw_pairs/pairsDevTest.txt
mkdir -p "$out"
run() { nice -n 19 "$@"; }
rm -rf "$out/sessions"
python3 scripts/split_sessions.py "$data/owners/stads/positive" "$out/sessions"
days=("$out"/sessions/*)
[ ${#days[@]} -eq 2 ] || { echo "error: expected two capture sessions in owners/stads/positive" >&2; exit 3; }
same_evening=${days[0]} new_day=${days[1]}

# case name, --self folders, owner photos to test on (each space-separated), references for the
# rule ("" = the photos the run held out, "@CASE" = those of another case, "-" = no reference rule)
cases=(
  "anchor_to_later|$data/owners/stads/anchor|$same_evening $new_day|"
  "new_day_to_evening|$new_day|$data/owners/stads/anchor $same_evening|"
  "both_days|$data/owners/stads/anchor $new_day|$new_day|@anchor_to_later"
  "oshoura|$data/owners/oshoura|@held_out|-"
)
summary=$out/summary.md
{
  echo "| case | fine-tune | model | rule | TAR at the rule | FAR at the rule | TAR at FAR <= 0.001 | AUC | ms/face | train s |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$summary"
for mode in "${modes[@]}"; do
  for c in "${cases[@]}"; do
    IFS='|' read -r name self test refs <<< "$c"
    dir=$out/${name}_$mode
    rm -rf "$dir/refs"
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    run "$bin/facetrain" --owner-only --from "$base" --fine-tune "$mode" ${OWNER_FIT:+--owner-fit "$OWNER_FIT"} --lfw "$data/lfw" --self $self \
      --exclude-pairs "$pairs" -o "$dir/model" --run-dir "$dir/run" --fill-refs "$dir/refs" --threads 1 \
      --min-owner-tar 0 2>&1 | tee "$dir/train.txt"
    [ "$test" = "@held_out" ] && test=$dir/refs
    case $refs in
      "") rule=(--refs "$dir/refs") ;;
      -) rule=() ;;
      *) rule=(--refs "$out/${refs#@}_$mode/refs") ;;
    esac
    for t in $test; do
      probe=$(basename "$t")
      run "$bin/faceeval" owner --model "$dir/model" "${rule[@]}" --owner "$t" --strangers "$data/lfw" \
        --strangers-pairs "$pairs" --max-strangers 100000 --impostors "$data/owners/stads/impostors" --threads 1 \
        --out "$dir/eval_$probe" 2>&1 | tee "$out/${name}_${mode}_$probe.txt"
      python3 - "$dir/eval_$probe/owner_report.json" "$dir/model/model.json" "$name -> $probe" "$mode" >> "$summary" <<'PY'
import json, sys
r, m, name, mode = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
n_o, n_s = r["owner_faces"], r["stranger_faces"]
secs = m["training"]["train_seconds"]
for s in r["systems"]:
    f = s["for_target_far"]
    owner = s["kind"] == "owner"
    auc = s["auc"] if owner else s["auc_match_ratio"]
    print(f"| {name} | {mode} | {s['label']} | {s['rule']} | {s['owner_accepted']}/{n_o} = {s['tar']:.4f} | "
          f"{s['strangers_accepted']}/{n_s} = {s['far']:.4f} | {f['owner_accepted']}/{n_o} = {f['tar']:.4f} "
          f"({f['strangers_accepted']} strangers) | {auc:.4f} | {s['ms_per_face']:.2f} | "
          f"{f'{secs:.0f}' if owner else ''} |")
PY
    done
  done
done
cat "$summary"
