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
