#!/usr/bin/env bash
# Runs the integration and transport tests under AddressSanitizer and ThreadSanitizer.
# Slow (a full sanitized build per sanitizer, 10-20 min each on 2 cores), so not part of .ci/run.
#
#   scripts/sanitizers.sh                 # both sanitizers, default filter
#   scripts/sanitizers.sh address         # one sanitizer
#   FILTER='IntegrationTests.LWS' scripts/sanitizers.sh thread
#
# Each sanitizer builds into its own scratch directory (.build-asan, .build-tsan) so the ordinary
# .build cache stays warm. Exit status is non-zero if any run fails or a sanitizer reports.
# See RELIABILITY.md ("Sanitizers") for what it covers and the last results.
set -uo pipefail
cd "$(dirname "$0")/.."

# The libwebsockets and libcurl transports, DiscordFake end to end, the daemon against DiscordFake,
# the gateway client and the REST client (their rate limiter and transports share state with C threads).
DEFAULT_FILTER='IntegrationTests\.(LWSWebSocketTransport|CurlHTTPTransport|Fake|DaemonIntegration)|DiscordGatewayTests|DiscordRESTTests'
FILTER="${FILTER:-$DEFAULT_FILTER}"
sanitizers=("$@")
[ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address thread)

# Stop at the first report, with the stack; a leak report is not a failure (Swift runtime caches).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

status=0
for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        address) scratch=.build-asan ;;
        thread) scratch=.build-tsan ;;
        *) echo "sanitizers.sh: unknown sanitizer '$sanitizer' (address or thread)" >&2; exit 2 ;;
    esac
    log="$scratch/sanitizer-run.log"
    mkdir -p "$scratch"
    echo "== swift test --sanitize=$sanitizer --filter '$FILTER' (log: $log)"
    start=$(date +%s)
    swift test --scratch-path "$scratch" --sanitize="$sanitizer" --filter "$FILTER" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if grep -qE 'ERROR: (AddressSanitizer|ThreadSanitizer)|WARNING: ThreadSanitizer' "$log"; then
        echo "== $sanitizer: sanitizer report found in $log" >&2
        rc=1
    fi
    echo "== $sanitizer: exit $rc in $(( $(date +%s) - start )) s"
    [ "$rc" -ne 0 ] && status=1
done
exit $status
