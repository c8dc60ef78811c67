#!/usr/bin/env bash
# Runs a faceid tool and checks its exit code and output.
#   expect.sh CODE REGEX [--need PATH] -- COMMAND...
# Passes when COMMAND exits with CODE and its stdout+stderr match the extended REGEX (empty: any).
# Exits 77 (reported by CTest as skipped) when --need PATH does not exist.
set -u
code=$1 regex=$2
shift 2
if [ "${1:-}" = "--need" ]; then
  if [ ! -e "$2" ]; then echo "SKIP: shared data not found: $2 (set FACEID_DATA)"; exit 77; fi
  shift 2
fi
[ "${1:-}" = "--" ] && shift
out=$("$@" 2>&1)
got=$?
printf '%s\n' "$out" | tail -n 40
if [ "$got" -ne "$code" ]; then echo "FAIL: exit code $got, expected $code"; exit 1; fi
if [ -n "$regex" ] && ! printf '%s' "$out" | grep -Eq -- "$regex"; then echo "FAIL: output does not match /$regex/"; exit 1; fi
echo "ok: exit $got"
