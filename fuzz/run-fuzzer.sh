#!/bin/sh
# Runs one libFuzzer target: run-fuzzer.sh BINARY SEED_DIR WORK_DIR DICT [MORE_SEEDS...]
# The seed corpora are read, new inputs go to WORK_DIR, and any crash
# leaves its input in WORK_DIR/artifacts/ and fails the test.
set -eu
bin=$1 seeds=$2 work=$3 dict=$4
shift 4
secs=${SK_FUZZ_SECONDS:-20}
mkdir -p "$work/corpus" "$work/artifacts"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$dict" -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" "$@"
