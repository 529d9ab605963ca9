#!/usr/bin/env bash
# The live N+1 hook's cost in instructions, which a shared machine cannot disturb (throughput on
# it varies by more than the effect). The compiled reference service runs under valgrind's
# callgrind with the hook off and on, side by side; WARM sequential requests go uncounted (under
# valgrind V8 needs thousands to finish tiering up), then COUNTED requests with instrumentation
# on. User-space instructions of the service's main thread, where requests are served, and of
# all its threads (the query log's writer thread too), garbage collection included; the kernel's
# network stack is not counted.
# V8 runs with --predictable (no concurrent compilation or marking, fixed hash seeds), so that
# which code gets optimised, and when, varies less from run to run.
# Needs valgrind (apt-get install valgrind), curl and `npm run build`.
# Usage: bash bench/hook-instructions.sh [WARM, default 8000] [COUNTED, default 400]
set -euo pipefail
cd "$(dirname "$0")/.."
WARM=${1:-8000}
COUNTED=${2:-400}
NODE_FLAGS=${NODE_FLAGS:---predictable}
SERVER=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=opsctl_bench_instr_$$
DB_URL="${SERVER%/*}/$DB"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$SERVER" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT
[ -f dist/reference-service/src/server.js ] || { echo "run npm run build first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed: apt-get install valgrind" >&2; exit 2; }

psql "$SERVER" -qc "CREATE DATABASE $DB" >/dev/null
# Seed once (scale 0.1) with the service itself, then stop it.
PORT=39410 DATABASE_URL=$DB_URL SEED=1 SEED_SCALE=0.1 LOG_LEVEL=warn node dist/reference-service/src/server.js >/dev/null &
SEEDER=$!
until curl -sf -o /dev/null http://127.0.0.1:39410/healthz; do sleep 0.5; done
kill $SEEDER; wait $SEEDER 2>/dev/null || true

count() { # label port [extra env...]
  local label=$1 port=$2; shift 2
  env PORT=$port DATABASE_URL=$DB_URL LOG_LEVEL=warn "$@" valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$WORK/$label.out" --smc-check=all-non-file --dump-line=no --separate-threads=yes \
    node $NODE_FLAGS dist/reference-service/src/server.js >"$WORK/$label.log" 2>&1 &
  local pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 1; done
  for i in $(seq 1 "$WARM"); do curl -s -o /dev/null "http://127.0.0.1:$port/users/$((i % 50 + 1))/orders"; done
  callgrind_control -i on $pid >/dev/null
  for i in $(seq 1 "$COUNTED"); do curl -s -o /dev/null "http://127.0.0.1:$port/users/$((i % 50 + 1))/orders"; done
  callgrind_control -i off $pid >/dev/null
  callgrind_control -d $pid >/dev/null
  sleep 2 # the dump is written when valgrind next reads its command pipe
  kill $pid; wait $pid 2>/dev/null || true
  # The service's main thread (thread 1), all threads, and V8's compilers apart (near zero once
  # the JIT has settled). Other threads: V8's and libuv's helpers, the query log's writer.
  local main=0 all=0 compiler=0
  for file in "$WORK/$label.out.1"-*; do
    read -r total compiled < <(callgrind_annotate --inclusive=no --threshold=100 "$file" | awk '
      /^ *[0-9,]+ \(/ { v = $1; gsub(",", "", v); if ($0 ~ /PROGRAM TOTALS/) total = v; else if ($0 ~ /compiler::|maglev::|Maglev|turboshaft|baseline::|Compiler::|Parser|BytecodeGenerator/) compiler += v }
      END { printf "%d %d\n", total, compiler }')
    all=$((all + total)); compiler=$((compiler + compiled))
    case "$file" in *-01) main=$total ;; esac
  done
  awk -v label="$label" -v n="$COUNTED" -v main="$main" -v all="$all" -v compiler="$compiler" \
    'BEGIN { printf "| %s | %.3fM | %.3fM | %.1fk |\n", label, main / n / 1e6, all / n / 1e6, compiler / n / 1e3 }' > "$WORK/$label.row"
}

count off 39411 OPSCTL_QUERY_LOG= &
count on 39412 OPSCTL_QUERY_LOG="$WORK/queries.jsonl" &
wait
echo "The compiled reference service under callgrind (node $NODE_FLAGS): $WARM sequential warm-up requests, then $COUNTED counted, GET /users/:id/orders for 50 users, seed scale 0.1. The hook recorded $(wc -l < "$WORK/queries.jsonl") statements."
echo
echo "| variant | main thread: instructions / request | all threads | of which V8 compilers |"
echo "| --- | ---: | ---: | ---: |"
cat "$WORK/off.row" "$WORK/on.row"
