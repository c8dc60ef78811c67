# Sourced by the CLI scenario scripts: `check NAME EXPECTED_CODE REGEX -- command...` runs the
# command, compares its exit code and (when REGEX is not empty) its output, prints ok/FAIL and
# counts failures in $fails.
fails=0
check() {
  local name=$1 code=$2 regex=$3; shift 4
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$code" ]; then echo "FAIL $name: exit $got, expected $code"; printf '%s\n' "$out" | tail -5; fails=$((fails+1)); return; fi
  if [ -n "$regex" ] && ! printf '%s' "$out" | grep -Eq -- "$regex"; then
    echo "FAIL $name: output does not match /$regex/"; printf '%s\n' "$out" | tail -8; fails=$((fails+1)); return; fi
  echo "ok   $name (exit $got)"
}

# `scenario DATA_DIR SUBDIR...`: exits 77 (skip) unless every DATA_DIR/SUBDIR is a folder; then
# sets $data (absolute) and $tmp (a fresh folder removed at exit, holding the face cache).
scenario() {
  local dir=$1; shift
  for sub in "$@"; do
    [ -d "$dir/$sub" ] || { echo "SKIP: shared data not found under $dir (set FACEID_DATA)"; exit 77; }
  done
  data=$(cd "$dir" && pwd)
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  export FACEID_CACHE=$tmp/cache
}
