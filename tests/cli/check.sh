# Sourced by the CLI scenario scripts: `check NAME EXPECTED_CODE REGEX -- command...` runs the
# command, compares its exit code and (when REGEX is not empty) its output, prints ok/FAIL and
# counts failures in $fails.
fails=0

# `scenario_start DIR...` (with $data set): skips the scenario (exit 77, saying so) unless every
# DIR is under $data; then makes $data absolute and exported as FACEID_DATA (so YuNet is found
# whoever runs the test; Haar would miss faces), and gives a $tmp removed on exit with its own
# face cache.
scenario_start() {
  local d
  for d in "$@"; do
    [ -d "$data/$d" ] || { echo "SKIP: shared data not found under $data (set FACEID_DATA)"; exit 77; }
  done
  data=$(cd "$data" && pwd)
  export FACEID_DATA=$data
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  export FACEID_CACHE=$tmp/cache
}

check() {
  local name=$1 code=$2 regex=$3; shift 4
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$code" ]; then echo "FAIL $name: exit $got, expected $code"; printf '%s\n' "$out" | tail -5; fails=$((fails+1)); return; fi
  if [ -n "$regex" ] && ! printf '%s' "$out" | grep -Eq -- "$regex"; then
    echo "FAIL $name: output does not match /$regex/"; printf '%s\n' "$out" | tail -8; fails=$((fails+1)); return; fi
  echo "ok   $name (exit $got)"
}
