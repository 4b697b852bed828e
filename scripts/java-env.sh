# Sourced by ./relay and ./test: finds a JDK 25 (or newer) and exports JAVA_HOME for it.
# Looks at $RELAY_JAVA_HOME, $JAVA_HOME, /usr/lib/jvm/*, then `java` on PATH.

java_major() {
    # Prints the feature version of the java binary $1, or nothing.
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_jdk25() {
    local candidate
    local -a candidates=()
    [ -n "${RELAY_JAVA_HOME:-}" ] && candidates+=("$RELAY_JAVA_HOME")
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    for candidate in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/*; do
        [ -d "$candidate" ] && candidates+=("$candidate")
    done
    if command -v java >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    fi
    for candidate in "${candidates[@]}"; do
        if [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ]; then
            local major
            major=$(java_major "$candidate/bin/java")
            if [ -n "$major" ] && [ "$major" -ge 25 ]; then
                echo "$candidate"
                return 0
            fi
        fi
    done
    return 1
}

use_jdk25() {
    local found
    if ! found=$(find_jdk25); then
        echo "error: riscv-relay needs a JDK 25 or newer (java and javac); none found in \$RELAY_JAVA_HOME, \$JAVA_HOME, /usr/lib/jvm or PATH." >&2
        echo "       Install one (e.g. Temurin 25) or point RELAY_JAVA_HOME at it." >&2
        return 1
    fi
    export JAVA_HOME="$found"
    export PATH="$JAVA_HOME/bin:$PATH"
}
