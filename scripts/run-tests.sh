#!/usr/bin/env bash
# Runs test programs (cmocka-style output), one after another, and ends
# with one summary line "N passed, M failed" counting the individual tests.
# A program that exits non-zero without reporting a failure (a crash, a
# sanitizer abort) counts as one failed test. Skipped tests (cmocka skip():
# a GPU test on a machine without one) are counted and listed, each program
# having printed why. The five slowest programs are listed with their
# times, to keep make test's length in view. Exit status: 0 iff none failed.
set -u
passed=0
failed=0
skipped=0
failed_programs=()
skipped_programs=()
times=()
for prog in "$@"; do
  echo "==> $prog"
  t0=$(date +%s%N)
  out=$("$prog" 2>&1)
  rc=$?
  t1=$(date +%s%N)
  times+=("$(( (t1 - t0) / 1000000 )) $prog")
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]\+\) test(s)\./\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]\+\) test(s), listed below:/\1/p' | awk '{s+=$1} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  k=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]\+\) test(s), listed below:/\1/p' | awk '{s+=$1} END {print s+0}')
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$k" -eq 0 ]; then
    echo "run-tests: $prog reported no tests" >&2
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + k))
  [ "$k" -gt 0 ] && skipped_programs+=("$prog")
  [ "$f" -gt 0 ] && failed_programs+=("$prog")
done
echo
if [ ${#times[@]} -gt 0 ]; then
  echo "slowest programs:"
  printf '%s\n' "${times[@]}" | sort -rn | head -5 | awk '{printf "  %7.1f s  %s\n", $1 / 1000, $2}'
fi
[ ${#skipped_programs[@]} -gt 0 ] && echo "$skipped skipped (reasons above) in: ${skipped_programs[*]}"
[ ${#failed_programs[@]} -gt 0 ] && echo "failing programs: ${failed_programs[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
