#!/bin/bash
# tools/test_repeat.sh: `make test-repeat N=10 SUITES="browser reliability notebooks protocol"`.
# Runs each suite N times in a row (round by round, so the suites meet each
# other's leftovers as they would in `make test`) and prints, per suite, runs
# and failures. A flaky test shows up here before CI finds it. Run it with the
# machine loaded (e.g. `stress-ng --cpu 2` beside it): CI machines are busy.
# Each run's output: build/test-repeat/SUITE-K.log; failing runs are kept
# and named at the end. Exit status 1 if any run failed.
#   suites: unit protocol escape notebooks reliability frontends browser bench-smoke fuzz
set -uo pipefail
cd "$(dirname "$0")/.."
n=${N:-10}
suites=${SUITES:-browser reliability notebooks protocol}
logs=build/test-repeat
mkdir -p "$logs"

target() {
    case $1 in
        bench-smoke|fuzz) echo "$1" ;;
        unit|protocol|escape|notebooks|reliability|frontends|browser) echo "test-$1" ;;
        *) echo "test-repeat: unknown suite '$1'" >&2; exit 2 ;;
    esac
}
for s in $suites; do target "$s" >/dev/null || exit 2; done

declare -A runs fails secs
failed_logs=()
for ((k = 1; k <= n; k++)); do
    for s in $suites; do
        log=$logs/$s-$k.log
        t0=$(date +%s)
        if make --no-print-directory "$(target "$s")" >"$log" 2>&1; then
            result=ok
        else
            result=FAILED; fails[$s]=$(( ${fails[$s]:-0} + 1 )); failed_logs+=("$log")
        fi
        runs[$s]=$(( ${runs[$s]:-0} + 1 ))
        secs[$s]=$(( ${secs[$s]:-0} + $(date +%s) - t0 ))
        echo "round $k/$n: $s $result ($(( $(date +%s) - t0 )) s)"
    done
done

echo
printf '%-12s %5s %9s %10s\n' suite runs failures 'mean time'
total_fail=0
for s in $suites; do
    printf '%-12s %5d %9d %8d s\n' "$s" "${runs[$s]}" "${fails[$s]:-0}" $(( ${secs[$s]} / ${runs[$s]} ))
    total_fail=$(( total_fail + ${fails[$s]:-0} ))
done
if [ ${#failed_logs[@]} -gt 0 ]; then
    echo "failing runs (their output):"
    printf '  %s\n' "${failed_logs[@]}"
fi
# the plain closing line
echo "$(( n * $(wc -w <<<"$suites") - total_fail )) passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
