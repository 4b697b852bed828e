#!/usr/bin/env bash
# Fetches the WISP clients the browser tests drive, pinned, from the npm registry into target/wisp-clients/ (or $1):
#   libcurl.mjs, libcurl.wasm   libcurl.js (npm libcurl.js): curl in WebAssembly, its sockets over WISP
# Skips the work when the files exist and the script is unchanged.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/wisp-clients}"
LIBCURL_JS_VERSION="${LIBCURL_JS_VERSION:-0.7.4}"
stamp="$out/.built-by"
self_hash="$(sha256sum < "${BASH_SOURCE[0]}" | cut -d' ' -f1) libcurl.js@$LIBCURL_JS_VERSION"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$self_hash" ]; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "error: npm is missing (scripts/install-test-deps.sh installs it)" >&2; exit 1; }

work="$out/work"
rm -rf "$work"
mkdir -p "$work" "$out"
(cd "$work" && npm pack --silent "libcurl.js@$LIBCURL_JS_VERSION" >/dev/null && tar xzf "libcurl.js-$LIBCURL_JS_VERSION.tgz")
cp "$work/package/libcurl.mjs" "$work/package/libcurl.wasm" "$out/"
cp "$work/package/LICENSE" "$out/libcurl.js-LICENSE"
rm -rf "$work"
echo "$self_hash" > "$stamp"
