#!/usr/bin/env bash
# Runs the benchmarks: the budget microbenchmark, the translation benchmark and the router benchmark
# (Java), the Python cold start. Builds the engine jar first if it is missing.
#
#   bench/run.sh            # full run, about 4-5 minutes
#   bench/run.sh --quick    # smoke run, about 50 seconds
#   bench/run.sh --baseline --seconds 90   # extra options go to RouterBench
#   bench/run.sh --budget                  # RouterBench also measures a router with budget and ledger on
#
# Environment: IRON_RUNTIME_JAR (jar to use), PYTHON (interpreter for cold_start.py, default python3).
# Exit status: 0 when both ran (a missed target is reported, not an error), non-zero when one failed.
set -euo pipefail
cd "$(dirname "$0")/.."

jar="${IRON_RUNTIME_JAR:-}"
if [ -z "$jar" ]; then
    jar="$(ls target/iron-runtime-*.jar 2>/dev/null | grep -v -e '/original-' -e '-sources' -e '-javadoc' | head -n 1 || true)"
fi
if [ -z "$jar" ] || [ ! -f "$jar" ]; then
    echo "== building the engine jar (mvn package)"
    mvn -B -q -DskipTests package
    jar="$(ls target/iron-runtime-*.jar | grep -v -e '/original-' -e '-sources' -e '-javadoc' | head -n 1)"
fi

runs=5
for arg in "$@"; do
    [ "$arg" = "--quick" ] && runs=3
done

echo "== budget microbenchmark ($jar)"
quick_flags=()
for arg in "$@"; do
    [ "$arg" = "--quick" ] && quick_flags=(--quick)
done
java -cp "$jar" bench/BudgetBench.java "${quick_flags[@]}"

echo
echo "== translation benchmark ($jar)"
java -cp "$jar" bench/TranslateBench.java "${quick_flags[@]}"

echo
echo "== router benchmark ($jar)"
java -cp "$jar" bench/RouterBench.java "$@"

echo
echo "== Python cold start"
status=0
"${PYTHON:-python3}" bench/cold_start.py --runs "$runs" --jar "$jar" || status=$?
# cold_start.py exits 1 for a missed target (already printed) and 2 for a failure.
[ "$status" -le 1 ] || exit "$status"
