#!/usr/bin/env bash
# Builds one libFuzzer target (with AddressSanitizer) and runs it for a bounded time.
#
#   Fuzz/run.sh ZlibStream 180        # target name without "Fuzz", seconds (default 120)
#   Fuzz/run.sh GatewayPayload 180 -jobs=1 -max_len=8192    # more libFuzzer flags after the seconds
#
# Targets: ZlibStream, GatewayPayload, Config, AdminJSON. The run starts from the kept corpus
# (Tests/Fuzz/Corpus/<kebab-name>, read only) plus a working corpus in Fuzz/.build/corpus/<name>;
# crashing inputs land in Fuzz/.build/artifacts/<name>. Keep a crash as a regression by copying it to
# Tests/Fuzz/Corpus/<kebab-name>/crash-<what> once fixed: `swift test` replays every file there.
set -euo pipefail
cd "$(dirname "$0")"
name="${1:?usage: Fuzz/run.sh ZlibStream|GatewayPayload|Config|AdminJSON [seconds] [libFuzzer flags]}"
seconds="${2:-120}"
shift; [ $# -gt 0 ] && shift
case "$name" in
    ZlibStream) corpus=zlib-stream ;;
    GatewayPayload) corpus=gateway-payload ;;
    Config) corpus=config ;;
    AdminJSON) corpus=admin-json ;;
    *) echo "unknown target $name" >&2; exit 2 ;;
esac
swift build --product "Fuzz$name" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | grep -v 'Cannot export local symbol' || true
binary="$(swift build --show-bin-path)/Fuzz$name"
[ -x "$binary" ] || { echo "build failed" >&2; exit 1; }
work=".build/corpus/$name"; artifacts=".build/artifacts/$name"
mkdir -p "$work" "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
# The Swift runtime's backtracer reads foreign stacks, which ASan reports; libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no
exec "$binary" "$work" "../Tests/Fuzz/Corpus/$corpus" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" -timeout=10 -rss_limit_mb=2048 "$@"
