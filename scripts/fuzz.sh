#!/usr/bin/env bash
# Fuzzes every Jazzer @FuzzTest for a bounded time each, one JVM per target (libFuzzer fuzzes one target per
# process), FUZZ_JOBS targets at a time (default: one per CPU). Usage: scripts/fuzz.sh [seconds-per-target] [filter]
#   seconds-per-target  fuzzing time of each target (default 10)
#   filter              only targets whose Class.method contains it (e.g. Dhcp)
# Each target starts from its committed seeds (src/test/resources/<package>/<Class>Inputs/<method>/) and grows a
# corpus under target/fuzz/<Class>.<method>/corpus, kept between runs. A finding fails the run; its input is saved
# as target/fuzz/<Class>.<method>/crash-<sha1> (or timeout-/oom-): copy it into the seed folder to make it a
# regression test of every `mvn test`. Exit status: 0 when no target found anything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/java-env.sh
. scripts/java-env.sh
use_jdk25

seconds="${1:-10}"
filter="${2:-}"
out=target/fuzz
mkdir -p "$out"

./mvnw -q -B -ntp test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$out/classpath.txt"
classpath="target/test-classes:target/classes:$(cat "$out/classpath.txt")"

# Class.method of every @FuzzTest: the method declared on the line after the annotation.
mapfile -t targets < <(grep -rl --include='*FuzzTest.java' '@FuzzTest' src/test/java | sort | while read -r file; do
    class=$(sed -e 's|^src/test/java/||' -e 's|\.java$||' -e 's|/|.|g' <<<"$file")
    grep -A1 '@FuzzTest' "$file" | sed -n 's/^ *void \([A-Za-z0-9_]*\)(.*/\1/p' | sed "s|^|$class.|"
done)

jobs="${FUZZ_JOBS:-$(nproc)}"

# Runs one target; its verdict goes to $dir/result.txt (first word ok or FAIL).
fuzz_one() {
    local target="$1" class method name dir seeds status runs coverage
    class="${target%.*}"
    method="${target##*.}"
    name="${class##*.}.$method"
    dir="$out/$name"
    seeds="src/test/resources/$(tr . / <<<"${class%.*}")/${class##*.}Inputs/$method"
    mkdir -p "$dir/corpus"
    rm -f "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-*
    local -a corpora=("$dir/corpus")
    [ -d "$seeds" ] && corpora+=("$seeds")
    # The targets assert exact reference counts themselves; paranoid leak detection (as in `mvn test`) would cut
    # the rate twelvefold, so it samples here, and a LEAK report still fails the target like a crash does.
    status=0
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+EnableDynamicAgentLoading -Xmx1g \
        -Dio.netty.leakDetection.level=simple -cp "$classpath" com.code_intelligence.jazzer.Jazzer \
        --target_class="$class" --target_method="$method" \
        -max_total_time="$seconds" -timeout=10 -artifact_prefix="$dir/" "${corpora[@]}" \
        >"$dir/log.txt" 2>&1 || status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log.txt" | tail -n 1)
    coverage=$(grep -o 'cov: [0-9]*' "$dir/log.txt" | tail -n 1 || true)
    if grep -q 'LEAK:' "$dir/log.txt"; then
        status=1
    fi
    if [ "$status" -ne 0 ]; then
        {
            echo "FAIL $name after ${runs:-?} runs, log $dir/log.txt, input: $(ls "$dir" | grep -E '^(crash|timeout|oom|leak)-' | sed "s|^|$dir/|" | tr '\n' ' ')"
            grep -m 20 -E 'FuzzerSecurityIssue|Exception|Error|LEAK|^\s+at dev\.' "$dir/log.txt" || true
        } >"$dir/result.txt"
    else
        echo "ok   $name: ${runs:-?} runs in ${seconds}s, $coverage, corpus $(ls "$dir/corpus" | wc -l) inputs" \
            >"$dir/result.txt"
    fi
}

started=$(date +%s)
names=()
for target in "${targets[@]}"; do
    [[ -n "$filter" && "$target" != *"$filter"* ]] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
    class="${target%.*}"
    names+=("${class##*.}.${target##*.}")
    fuzz_one "$target" &
done
wait
failed=()
for name in "${names[@]}"; do
    cat "$out/$name/result.txt"
    if ! head -n 1 "$out/$name/result.txt" | grep -q '^ok '; then
        failed+=("$name")
    fi
done
echo "fuzzed ${#names[@]} targets for ${seconds}s each in $(( $(date +%s) - started ))s"
if [ "${#names[@]}" -eq 0 ]; then
    echo "error: no fuzz target matched '$filter'" >&2
    exit 1
fi
if [ "${#failed[@]}" -ne 0 ]; then
    echo "error: findings in ${failed[*]}; copy the input into the target's seed folder to replay it in mvn test" >&2
    exit 1
fi
