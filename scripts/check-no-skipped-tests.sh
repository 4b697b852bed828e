#!/usr/bin/env bash
# Sums the JUnit XML reports in the given folders and fails if any test was skipped (a skipped required test is a
# hole, not a pass) or if no test ran at all. Prints one "N passed, N failed, N skipped" line.
set -euo pipefail
tests=0 failures=0 errors=0 skipped=0
shopt -s nullglob
for dir in "$@"; do
    for report in "$dir"/TEST-*.xml; do
        header=$(grep -m1 -o '<testsuite [^>]*>' "$report" || true)
        attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$header"; }
        tests=$((tests + $(attr tests)))
        failures=$((failures + $(attr failures)))
        errors=$((errors + $(attr errors)))
        skipped=$((skipped + $(attr skipped)))
        if [ "$(attr skipped)" != "0" ]; then
            echo "skipped tests in $(basename "$report" .xml | sed 's/^TEST-//')" >&2
        fi
    done
done
failed=$((failures + errors))
echo "tests: $((tests - failed - skipped)) passed, $failed failed, $skipped skipped"
if [ "$tests" -eq 0 ]; then
    echo "error: no test ran" >&2
    exit 1
fi
if [ "$skipped" -ne 0 ]; then
    echo "error: $skipped test(s) were skipped; every test is required" >&2
    exit 1
fi
[ "$failed" -eq 0 ]
