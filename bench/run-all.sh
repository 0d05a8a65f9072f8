#!/bin/sh
# Every benchmark in one run, sipkit beside Kamailio where a peer exists,
# written as a dated table into bench/README.md (between the "run-all"
# markers; the rest of the file is left alone) and printed.
#
#   bench/run-all.sh              the full set (about 10 minutes)
#   QUICK=1 bench/run-all.sh      shorter loads, for a smoke run
#   NO_README=1 bench/run-all.sh  print only
#   CLUSTER=1 bench/run-all.sh    also three nodes on one PostgreSQL
#                                 (bench/cluster.sh, about 6 more minutes)
#
# Runs, in order: the parser and digest microbenchmarks, OPTIONS,
# authenticated REGISTER (which also reports sipkit's peak RSS), calls
# through the proxy with many callers to one callee, and presence. Uses the
# release build in build/ (built first). Loopback only; each script stops
# what it starts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
scripts/build >/dev/null || { echo "build failed" >&2; exit 1; }
export SIPKIT=${SIPKIT:-build/sipkit}
OUT=$(mktemp -d /tmp/sk-bench-all.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

if [ -n "${QUICK:-}" ]; then
    OPT_RATE=2000 OPT_SECS=5 REG_RATES="1000" REG_SECS=5 CALL_RATES=400,800 CALL_SECS=5
    PRES_ARGS="200 5 500 2" CLUSTER_ARGS="600 300 5"
else
    OPT_RATE=4000 OPT_SECS=15 REG_RATES="1000 3000" REG_SECS=20 CALL_RATES=400,800,1600
    CALL_SECS=10 PRES_ARGS="500 10 1000 3" CLUSTER_ARGS="600,1500 300,600 15"
fi

run() { # name command...: run, keep and show its output
    local name=$1
    shift
    echo "== $name: $*"
    "$@" 2>&1 | tee "$OUT/$name.txt"
}

run parse build/bench/bench_parse 1
run digest build/bench/bench_digest
run options env SK_PORT=28160 KAM_PORT=28170 bench/options.sh "$OPT_RATE" "$OPT_SECS"
for r in $REG_RATES; do
    run "register-$r" env SK_PORT=28260 KAM_PORT=28270 bench/register.sh "$r" "$REG_SECS" 200
done
run calls env SK_PORT=28360 KAM_PORT=28370 bench/call.sh "$CALL_RATES" "$CALL_SECS"
# shellcheck disable=SC2086
run presence env SK_PORT=28460 KAM_PORT=28470 bench/presence.sh $PRES_ARGS
if [ -n "${CLUSTER:-}" ]; then
    # shellcheck disable=SC2086
    run cluster-pg env SK_PORT=28560 KAM_PORT=28580 PG_PORT=28590 bench/cluster.sh $CLUSTER_ARGS
fi

# One table row per load line ("NAME key=value ..."), by benchmark.
table() {
    echo "| benchmark | server | rate asked | ok | failed | achieved /s | CPU s / 10k | peak RSS |"
    echo "|---|---|---|---|---|---|---|---|"
    for f in "$OUT"/options.txt "$OUT"/register-*.txt "$OUT"/calls.txt "$OUT"/presence.txt "$OUT"/cluster-pg.txt; do
        [ -f "$f" ] || continue
        awk -v bench="$(basename "$f" .txt)" '
            /cpu_per_10k/ {
                gsub(/= +/, "=")
                $0 = $0
                delete v
                what = bench
                if ($2 !~ /=/) what = bench " " $2
                cpu = ""
                for (i = 2; i <= NF; i++) {
                    if (split($i, kv, "=") != 2) continue
                    v[kv[1]] = kv[2]
                    if (kv[1] ~ /^cpu_per_10k/ && cpu == "") cpu = kv[2]
                }
                if ("pg_cpu_per_10k" in v) cpu = cpu " + PostgreSQL " v["pg_cpu_per_10k"]
                asked = ("achieved" in v) ? v["rate"] : ""
                ach = ("achieved" in v) ? v["achieved"] : v["rate"]
                ok = ("ok" in v) ? v["ok"] : v["notifies"]
                failed = ("failed" in v) ? v["failed"] : v["missing"]
                printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", what, $1, asked, ok, \
                    failed, ach, cpu, ("peak_rss" in v) ? v["peak_rss"] : ""
            }' "$f"
    done
}

report() {
    echo "### $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "Command: \`${QUICK:+QUICK=1 }${CLUSTER:+CLUSTER=1 }bench/run-all.sh\` (2 workers / 2 children, MD5, loopback)."
    echo
    table
    echo
    echo "Parser (msg/s, one core) and digest verifications (/s, one thread, store lookup included):"
    echo
    echo '```'
    grep -E 'msg/s|/s$' "$OUT/parse.txt" "$OUT/digest.txt" | sed 's/^[^:]*://'
    echo '```'
}

report >"$OUT/report.md"
echo
cat "$OUT/report.md"
if [ -z "${NO_README:-}" ]; then
    awk -v rep="$OUT/report.md" '
        /<!-- run-all:start -->/ { print; while ((getline l < rep) > 0) print l; skip = 1; next }
        /<!-- run-all:end -->/ { skip = 0 }
        !skip' bench/README.md >"$OUT/README.md" && cp "$OUT/README.md" bench/README.md
    echo "bench/README.md updated"
fi
