#!/bin/sh
# Three `sipkit serve` nodes on one PostgreSQL (docs/cluster.md): a
# REGISTER on node 1 is in nodes 2 and 3's memory within moments (the
# LISTEN/NOTIFY change feed; the time is printed); a challenge minted by
# node 1 is answered on node 3; the same Authorization replayed on node 2
# is refused (nonce-counts are shared); alice calls through node 2 to bob,
# registered on node 3 over UDP, then over TCP (through node 3, which holds
# his connection: the Path it stored), and SIPp calls SIPp across nodes;
# after kill -9 of node 1 the others keep
# registering and calling, and dave, registered over UDP on node 1 before
# the kill, is still called through node 2. PostgreSQL stops and starts
# again: every node logs each connection going down, reconnecting and up,
# and serves again.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/pg.sh"
need sipsak
need sipp
need python3
need curl
UAC="python3 $(dirname "$0")/lib/digest_uac.py"

pg_init
export PGPASSWORD
PGPASSWORD=$(cat "$PGPASSFILE_SK")
for u in alice bob carol dave; do
    printf '%spw\n' "$u" | "$SIPKIT" users add "$u" --password-stdin --domain localhost \
        --store "$PGURL" >/dev/null
    check "users add $u --store URL" "$?" 0
done
unset PGPASSWORD
umask 077
head -c 32 /dev/urandom | base64 >"$TMP/token"

NODE_PID=() NODE_PORT=() NODE_API=()
# Node 3 also listens on 127.0.0.2 and names that address in its Paths
# ([cluster] node_address): the other nodes reach bob's connection there.
NODE3_ADDR=127.0.0.2:$(peer_port)
NODE_ARGS=([3]="--listen $NODE3_ADDR --cluster-node-address $NODE3_ADDR")
start_node() { # N [wait]: start node N, or (wait) read its ports once it listens
    local n=$1 log=$TMP/node$1.log
    if [ -z "${2:-}" ]; then
        # debug: the feed logs when it applied another node's change.
        # shellcheck disable=SC2086 # NODE_ARGS holds several words
        "$SIPKIT" serve --listen 127.0.0.1:0 ${NODE_ARGS[$n]:-} --data-dir "$TMP/data$n" \
            --domain localhost --workers 2 --log-level debug \
        --store "$PGURL" --store-password-file "$PGPASSFILE_SK" --drain-timeout 1 \
        --admin 127.0.0.1:0 --admin-token-file "$TMP/token" >/dev/null 2>"$log" &
        echo $! >"$TMP/node$n.pid"
        return 0
    fi
    NODE_PID[$n]=$(cat "$TMP/node$n.pid")
    for _ in $(seq 1 100); do
        NODE_PORT[$n]=$(sed -n 's/.*transport=udp addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
        NODE_API[$n]=$(sed -n 's/.*transport=http addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
        [ -n "${NODE_PORT[$n]}" ] && [ -n "${NODE_API[$n]}" ] && return 0
        sleep 0.1
    done
    echo "FAIL: node $n did not start"; cat "$log"; exit 1
}
stop_nodes() {
    for p in "${NODE_PID[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${NODE_PID[@]}"; do wait "$p" 2>/dev/null; done
    NODE_PID=()
}
cluster_cleanup() {
    for p in "${NODE_PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
    pg_cleanup
}
trap cluster_cleanup EXIT
LOG=$TMP/node1.log
bindings() { # N AOR: node N's bindings of AOR, from its memory (admin API)
    curl -s -m 2 -H "Authorization: Bearer $(cat "$TMP/token")" \
        "http://127.0.0.1:${NODE_API[$1]}/api/v1/location?aor=$2"
}

for n in 1 2 3; do start_node "$n" & done
wait
for n in 1 2 3; do start_node "$n" wait; done

# 0. A node_address that is not an address of the node is refused at start.
out=$(timeout 20 "$SIPKIT" serve --listen 127.0.0.1:0 --data-dir "$TMP/data0" --domain localhost \
    --store "$PGURL" --store-password-file "$PGPASSFILE_SK" \
    --cluster-node-address 198.51.100.9:5060 2>&1); rc=$?
check "a foreign node_address: serve exits non-zero" "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
    echo yes)" yes
check_match "a foreign node_address: the log says why" "$out" \
    'key=cluster.node_address value=198.51.100.9:5060 error="not an address this node listens on"'

# 1. Register on node 1; nodes 2 and 3 see it.
lp=$(peer_port)
timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:${NODE_PORT[1]}" \
    -u alice -a alicepw -x 300 >"$TMP/sipsak.out" 2>&1
check "sipsak registers alice on node 1" "$?" 0
for n in 2 3; do
    seen=""
    for _ in $(seq 1 200); do
        bindings "$n" alice@localhost | grep -q "\"sip:alice@127.0.0.1:$lp\"" && { seen=yes; break; }
        sleep 0.01
    done
    check "node $n has alice's binding in memory" "$seen" yes
done
# From the logs: node 1's COMMIT (event=registered) to node 2 and 3's
# feed having swapped the rows in. The aim is 100 ms (a few ms on a
# release build, docs/cluster.md); the check allows 1 s for a loaded
# machine running the ASan build.
ms_of() { # FILE PATTERN: the first matching line's time of day in ms
    grep -m1 -- "$2" "$1" | sed -n 's/^ts=[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z.*/\1 \2 \3/p' |
        awk '{ printf "%d\n", ($1 * 3600 + $2 * 60 + $3) * 1000 }'
}
t_reg=$(ms_of "$TMP/node1.log" 'event=registered aor="alice@localhost"')
for n in 2 3; do
    t_feed=$(ms_of "$TMP/node$n.log" 'event=feed_applied aor="alice@localhost"')
    ms=$(( ${t_feed:-999999999} - ${t_reg:-0} ))
    echo "note: node $n applied alice's binding $ms ms after node 1 committed it"
    check "node $n within 1 s" "$([ "$ms" -gt -1000 ] && [ "$ms" -le 1000 ] && echo yes)" yes
done
check_match "node 2's feed connection is up" "$(cat "$TMP/node2.log")" \
    "conn=feed state=up"

# 2. A challenge minted by node 1 is answered on node 3.
out=$($UAC --port "${NODE_PORT[1]}" --answer-port "${NODE_PORT[3]}" --domain localhost \
    --user carol --password carolpw)
check_match "node 3 accepts an answer to node 1's challenge" "$out" "status=200"

# 3. The same Authorization replayed on node 2 is refused.
out=$($UAC --port "${NODE_PORT[1]}" --replay-port "${NODE_PORT[2]}" --domain localhost \
    --user carol --password carolpw)
check_match "the authenticated REGISTER gets 200 on node 1" "$out" "status=200"
check_match "the same bytes replayed on node 2 are challenged again" "$out" "replay_status=401"
check_match "node 2 names the replay" "$(cat "$TMP/node2.log")" 'cause="?replayed_nc'

# 4. alice calls bob through node 2; bob registered on node 3 over UDP.
call_bob() { # PROXY_NODE REGISTRAR_NODE [BOB_TRANSPORT]
    local out rc tp=${3:-udp}
    echo bobpw | "$SIPKIT" answer --user bob@localhost --password-stdin --register \
        --transport "$tp" --proxy "127.0.0.1:${NODE_PORT[$2]}" --ring 0 --timeout 15 \
        >"$TMP/bob.out" 2>&1 &
    local bpid=$!
    for _ in $(seq 1 100); do
        grep -q '^registered sip:bob@localhost' "$TMP/bob.out" && break
        sleep 0.1
    done
    for _ in $(seq 1 50); do
        bindings "$1" bob@localhost | grep -q 'sip:bob@' && break
        sleep 0.02
    done
    local self=127.0.0.1:${NODE_PORT[$2]}
    [ "$2" = 3 ] && self=$NODE3_ADDR
    [ "$tp" = udp ] || check_match "node $2 stored a Path naming itself on bob's $tp binding" \
        "$(bindings "$1" bob@localhost)" "sip:$self;lr;skfn="
    out=$(echo alicepw | timeout 15 "$SIPKIT" call sip:bob@localhost --user alice@localhost \
        --password-stdin --proxy "127.0.0.1:${NODE_PORT[$1]}" --duration 1 2>&1); rc=$?
    wait "$bpid"
    check "call through node $1 to bob registered on node $2 over $tp: exit 0" "$rc" 0
    check_match "call through node $1 to bob registered on node $2 over $tp: answered" "$out" \
        '^answered: 200 OK$'
}
call_bob 2 3

# 4b. bob registers over TCP on node 3: node 2 reaches him through node 3
# (the Path node 3 stored), over his connection; the BYE goes the same way.
call_bob 2 3 tcp
check_match "bob got alice's BYE over TCP" "$(cat "$TMP/bob.out")" '^the caller hung up$'

# 4c. Presence across nodes: alice watches bob on node 2, bob publishes on
# node 1; node 2 hears of it through the feed and notifies alice.
echo alicepw | "$SIPKIT" subscribe sip:bob@localhost --event presence --user alice@localhost \
    --password-stdin --proxy "127.0.0.1:${NODE_PORT[2]}" --count 2 --timeout 15 \
    >"$TMP/sub.out" 2>&1 &
spid=$!
for _ in $(seq 1 100); do
    grep -q '^NOTIFY 1' "$TMP/sub.out" && break
    sleep 0.1
done
out=$(echo bobpw | timeout 15 "$SIPKIT" publish sip:bob@localhost --status open \
    --user bob@localhost --password-stdin --proxy "127.0.0.1:${NODE_PORT[1]}" --expires 600 2>&1)
check "bob publishes on node 1: exit 0" "$?" 0
wait "$spid"
check "alice's subscription on node 2: exit 0" "$?" 0
check "alice's NOTIFYs from node 2: closed, then bob's open from node 1" \
    "$(grep -o '<basic>[a-z]*</basic>' "$TMP/sub.out" | head -n 2 | tr '\n' ' ')" \
    "<basic>closed</basic> <basic>open</basic> "

# 4d. The same across nodes with SIPp on both ends (not sipkit's own
# client): carol registers on node 3 (401 -> 200) and answers on that
# port; alice calls her through node 2 (407 -> retry, 100/180/200, ACK and
# BYE along the Record-Route).
SCEN=$(dirname "$0")/scenarios
sipp_peer() { # NAME PORT NODE SCENARIO [args]: one bounded SIPp run
    local name=$1 port=$2 node=$3 scen=$4
    shift 4
    timeout 25 sipp "127.0.0.1:${NODE_PORT[$node]}" -sf "$SCEN/$scen" -t u1 -i 127.0.0.1 \
        -p "$port" -m 1 -set domain localhost -timeout 20s -recv_timeout 8000 -nostdin \
        -trace_err -error_file "$TMP/$name.err" "$@" >"$TMP/$name.out" 2>&1
}
cp=$(peer_port)
sipp_peer carol-reg "$cp" 3 proxy_register.xml -s carol -au carol -ap carolpw -auth_uri localhost
check "SIPp registers carol on node 3" "$?" 0
for _ in $(seq 1 100); do
    bindings 2 carol@localhost | grep -q 'sip:carol@' && break
    sleep 0.02
done
timeout 25 sipp -sf "$SCEN/proxy_uas_answer.xml" -t u1 -i 127.0.0.1 -p "$cp" -m 1 -timeout 20s \
    -nostdin -trace_err -error_file "$TMP/carol-uas.err" -s carol >"$TMP/carol-uas.out" 2>&1 &
upid=$!
sleep 0.5
sipp_peer alice-sipp "$(peer_port)" 2 proxy_uac_call.xml -s carol -au alice -ap alicepw \
    -auth_uri carol@localhost
check "SIPp alice calls SIPp carol through node 2 (carol registered on node 3)" "$?" 0
wait "$upid"
check "SIPp carol answered and took the ACK and BYE" "$?" 0

# 5. kill -9 node 1: the others keep registering and calling, and a UA
# that registered over UDP on node 1 is still reached through them.
echo davepw | "$SIPKIT" answer --user dave@localhost --password-stdin --register \
    --proxy "127.0.0.1:${NODE_PORT[1]}" --ring 0 --timeout 30 >"$TMP/dave.out" 2>&1 &
dpid=$!
check_line "dave registers over UDP on node 1" "$TMP/dave.out" '^registered sip:dave@localhost'
for _ in $(seq 1 100); do
    bindings 2 dave@localhost | grep -q 'sip:dave@' && break
    sleep 0.02
done
kill -KILL "${NODE_PID[1]}"
wait "${NODE_PID[1]}" 2>/dev/null
unset 'NODE_PID[1]'
out=$(echo alicepw | timeout 15 "$SIPKIT" call sip:dave@localhost --user alice@localhost \
    --password-stdin --proxy "127.0.0.1:${NODE_PORT[2]}" --duration 1 2>&1)
check_match "after kill -9 of node 1, node 2 calls dave, registered on node 1 over UDP" "$out" \
    '^answered: 200 OK$'
check_line "dave answered alice's call" "$TMP/dave.out" '^the caller hung up$'
# Its unregister goes to node 1, which is gone: no need to wait for it.
kill -TERM "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:${NODE_PORT[2]}" \
    -u alice -a alicepw -x 300 >"$TMP/sipsak2.out" 2>&1
check "after kill -9 of node 1, alice registers on node 2" "$?" 0
call_bob 3 2

# 6. PostgreSQL stops and starts again: on every node each connection
# (the writer's and main one, used by a REGISTER meanwhile, and the
# feed's) logs down, reconnecting and up, and the nodes serve again.
pg_stop
for n in 2 3; do
    out=$(timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:${NODE_PORT[$n]}" \
        -u alice -a alicepw -x 300 -vvv 2>&1 | tr -d '\r')
    check_match "PostgreSQL down: REGISTER on node $n gets 503" "$out" \
        "SIP/2.0 503 Storage Unavailable"
done
pg_start
for n in 2 3; do
    pg_wait_back "$TMP/node$n.log"
    check "PostgreSQL back: node $n's writer and feed reconnected by themselves" "$?" 0
    timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:${NODE_PORT[$n]}" \
        -u alice -a alicepw -x 300 >/dev/null 2>&1
    check "PostgreSQL back: REGISTER on node $n gets 200" "$?" 0
    pg_check_states "node $n" "$TMP/node$n.log"
done

stop_nodes
if [ "$FAILS" -ne 0 ]; then
    for n in 1 2 3; do echo "node $n log:"; sed 's/^/    /' "$TMP/node$n.log"; done
    exit 1
fi
echo "all checks passed"
