#!/usr/bin/env bash
# Load benchmark of `crampcheck serve` on loopback: POST /api/check with a
# 10-medication list, measured with wrk (Debian package `wrk`). Starts the
# release binary on 127.0.0.1, runs a bounded load (default 20 s, 32
# connections, 2 wrk threads), prints requests/s and the latency
# distribution (p50/p75/p90/p99), then stops the server it started.
#
#   bash benches/serve-load.sh [SECONDS] [CONNECTIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNECTIONS=${2:-32}
THREADS=${3:-2}
PORT=${CRAMPCHECK_BENCH_PORT:-18090}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
BODY='{"propose":"quinine 324 mg bid","medications":["clarithromycin 500 mg bid","furosemide 40 mg daily","simvastatin 40 mg nightly","metformin 500 mg bid","lisinopril 10 mg daily","amlodipine 5 mg daily","omeprazole 20 mg daily","sertraline 50 mg daily","atorvastatin 20 mg","levothyroxine 75 mcg daily"],"egfr":55,"qtc":440,"age":72}'
SCRIPT=$(mktemp)
trap 'rm -f "$SCRIPT"; [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true' EXIT
cat > "$SCRIPT" <<LUA
wrk.method = "POST"
wrk.body   = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
./target/release/crampcheck serve --quiet --bind "127.0.0.1:$PORT" &
SERVER=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
# The answer must be the check document with its findings, not an error.
curl -sf -X POST -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$PORT/api/check" \
  | grep -q '"verdict": "avoid"'
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$SCRIPT" "http://127.0.0.1:$PORT/api/check"
