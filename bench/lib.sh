# Shared by the bench/*.sh scripts (sourced after they set TMP): the PIDs
# they start are stopped on exit (TERM, then KILL), TMP is removed unless
# KEEP is set, tree_ticks gives a process tree's CPU ticks and tree_sleeps
# how often its threads blocked (voluntary context switches).
PIDS=""

cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    if [ -n "${KEEP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

need() { command -v "$1" >/dev/null 2>&1; }

# CPU ticks (utime + stime) of a process, its threads and its descendants.
tree_ticks() {
    local pid=$1 total=0 t c
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + t))
    for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        total=$((total + $(tree_ticks "$c")))
    done
    echo "$total"
}

# Voluntary context switches of every thread of a process and its
# descendants: each is a sleep and a later wake-up, which costs the more
# the busier the machine is, so it explains CPU figures that move with the
# load.
tree_sleeps() {
    local pid=$1 total=0 c
    total=$(cat /proc/"$pid"/task/*/status 2>/dev/null |
        awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }')
    for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        total=$((total + $(tree_sleeps "$c")))
    done
    echo "$total"
}
