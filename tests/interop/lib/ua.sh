# Helpers for the tests that drive real SIP phones headless (sourced after
# common.sh; not a test itself). Each phone runs in its own session of a
# tmux server private to the test (socket in $TMP); commands are typed with
# send-keys and everything the phone prints is appended to $TMP/NAME.out by
# pipe-pane, so the tests read what the phones themselves report. On exit
# every pane's process and then the tmux server are killed by PID.
#
# No audio hardware is needed: baresip reads a silent WAV file (aufile) and
# plays into aubridge, linphonec uses its "files" sound card, twinkle opens
# ALSA's null device through an .asoundrc in its own HOME.

need tmux
DOMAIN=${DOMAIN:-example.test}
unset TMUX
UA_SOCK=$TMP/tmux.sock
SILENCE=$TMP/silence.wav

ua_cleanup() {
    local pids p
    [ -S "$UA_SOCK" ] || return 0
    pids=$(tmux -S "$UA_SOCK" list-panes -a -F '#{pane_pid}' 2>/dev/null)
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 20); do
        local alive=""
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    p=$(tmux -S "$UA_SOCK" display-message -p '#{pid}' 2>/dev/null)
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    rm -f "$UA_SOCK"
}
trap 'ua_cleanup; cleanup' EXIT

# ua_start NAME CMD...: run CMD in a new tmux session NAME. The command
# waits for a first Enter so that pipe-pane is in place before it prints.
ua_start() {
    local name=$1 cmd
    shift
    printf -v cmd '%q ' "$@"
    : >"$TMP/$name.out"
    tmux -S "$UA_SOCK" -f /dev/null new-session -d -s "$name" -x 250 -y 50 \
        "read _; exec $cmd" || { echo "FAIL: tmux could not start $name"; exit 1; }
    tmux -S "$UA_SOCK" pipe-pane -t "=$name:" "cat >>'$TMP/$name.out'"
    tmux -S "$UA_SOCK" send-keys -t "=$name:" Enter
}

# ua_send NAME TEXT: type TEXT and Enter.
ua_send() {
    tmux -S "$UA_SOCK" send-keys -t "=$1:" -l "$2"
    tmux -S "$UA_SOCK" send-keys -t "=$1:" Enter
}

# ua_out NAME: what the phone printed, without colours and CRs.
ua_out() { sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\r/\n/g' "$TMP/$1.out"; }

# ua_mark NAME: later ua_wait calls only look at output after this point.
ua_mark() { eval "UA_MARK_$1=$(wc -c <"$TMP/$1.out")"; }

# ua_wait NAME PATTERN [SECONDS]: poll the phone's output (since its mark)
# for PATTERN (grep -E); 0 when seen, 1 after SECONDS (default 20).
ua_wait() {
    local var="UA_MARK_$1" i
    local skip=${!var:-0}
    for i in $(seq 1 $((${3:-20} * 10))); do
        tail -c +$((skip + 1)) "$TMP/$1.out" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\r/\n/g' |
            grep -Eq -- "$2" && return 0
        sleep 0.1
    done
    return 1
}

# ua_check NAME DESCRIPTION PATTERN [SECONDS]: ua_wait as a check.
ua_check() {
    if ua_wait "$1" "$3" "${4:-20}"; then
        echo "ok: $2"
    else
        echo "FAIL: $2: '$3' not seen from $1 within ${4:-20} s; last lines:"
        ua_out "$1" | grep -v '^\[[0-9:]*\] audio=' | grep -v '^ *$' | tail -n 12 | sed 's/^/    /'
        FAILS=$((FAILS + 1))
    fi
}

port_busy() { # PORT: 0 when some socket (UDP/TCP, v4/v6) has it
    cat /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk '{ print $2 " " }' | grep -q -- "$(printf ':%04X ' "$1")"
}

# ua_port: a peer_port whose next port is free too (baresip binds TLS on
# its SIP port + 1).
ua_port() {
    local p
    for _ in $(seq 1 20); do
        p=$(peer_port)
        port_busy $((p + 1)) || break
    done
    echo "$p"
}

# silence_wav SECONDS FILE: 8 kHz mono 16-bit PCM, all zeros.
le32() {
    printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $((($1 >> 8) & 255)))"
    printf "\\$(printf %03o $((($1 >> 16) & 255)))\\$(printf %03o $((($1 >> 24) & 255)))"
}
silence_wav() {
    local n=$(($1 * 16000))
    {
        printf 'RIFF'; le32 $((n + 36)); printf 'WAVEfmt '; le32 16
        printf '\001\000\001\000'; le32 8000; le32 16000; printf '\002\000\020\000'
        printf 'data'; le32 "$n"; head -c "$n" /dev/zero
    } >"$2"
}

# host_of ADDR: "[::1]" or "127.0.0.1" as written in a URI.
uri_host() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# ---- baresip ----------------------------------------------------------------

# bs_start NAME USER PORT TRANSPORT [LOCAL_IP [SERVER_IP SERVER_PORT]]:
# baresip for USER@$DOMAIN (password USERpw) on LOCAL_IP:PORT, registering
# through the server over TRANSPORT (udp or tcp).
bs_start() {
    local name=$1 user=$2 port=$3 tr=$4 ip=${5:-127.0.0.1} sip=${6:-127.0.0.1}
    local sport=${7:-$PORT} dir=$TMP/$1
    [ -f "$SILENCE" ] || silence_wav 30 "$SILENCE"
    mkdir -p "$dir"
    cat >"$dir/config" <<EOF
poll_method		epoll
sip_listen		$(uri_host "$ip"):$port
sip_trans_def		$tr
net_interface		$ip
audio_player		aubridge,$name
audio_source		aufile,$SILENCE
audio_alert		aubridge,$name-alert
rtp_ports		$((port + 2))-$((port + 40))
module_path		/usr/lib/baresip/modules
module			stdio.so
module			g711.so
module			aufile.so
module			aubridge.so
module_app		account.so
module_app		contact.so
module_app		menu.so
module_app		presence.so
EOF
    printf '<sip:%s@%s;transport=%s>;auth_pass=%spw;outbound="sip:%s:%s;transport=%s";regint=600%s\n' \
        "$user" "$DOMAIN" "$tr" "$user" "$(uri_host "$sip")" "$sport" "$tr" \
        "${BS_PUBINT:+;pubint=$BS_PUBINT}" >"$dir/accounts"
    : >"$dir/contacts"
    for c in ${BS_CONTACTS:-}; do
        printf '<sip:%s@%s>;presence=p2p\n' "$c" "$DOMAIN" >>"$dir/contacts"
    done
    ua_start "$name" baresip -f "$dir"
}

# ---- linphonec --------------------------------------------------------------

# lp_start NAME USER PORT TRANSPORT: linphonec for USER@$DOMAIN on PORT
# (UDP and TCP, or TLS alone when TRANSPORT is tls), registering through
# the server over TRANSPORT. Its HOME is its own directory (liblinphone
# does not start without a writable database there).
# ipv6_migration_done=1: otherwise a fresh configuration has its sip_port
# replaced. For TLS, LP_CA names the CA file the server's certificate is
# checked against (chain and name), and LP_PROXY (default
# 127.0.0.1:$PORT) the server's host and port.
lp_start() {
    local name=$1 user=$2 port=$3 tr=$4 dir=$TMP/$1 ports proxy=${LP_PROXY:-127.0.0.1:$PORT}
    mkdir -p "$dir/home/.local/share/linphone"
    ports="sip_port=$port
sip_tcp_port=$port
sip_tls_port=-1"
    if [ "$tr" = tls ]; then
        ports="sip_port=-1
sip_tcp_port=-1
sip_tls_port=$port
root_ca=$LP_CA
verify_server_certs=1
verify_server_cn=1"
    fi
    cat >"$dir/linphonerc" <<EOF
[sip]
$ports
ipv6_migration_done=1
default_proxy=0
register_only_when_network_is_up=0
[rtp]
audio_rtp_port=$((port + 2))
video_rtp_port=$((port + 4))
text_rtp_port=$((port + 6))
[video]
enabled=0
[proxy_0]
reg_proxy=<sip:$proxy;transport=$tr>
reg_route=<sip:$proxy;transport=$tr;lr>
reg_identity=sip:$user@$DOMAIN
reg_expires=600
reg_sendregister=1
publish=${LP_PUBLISH:-0}
[auth_info_0]
username=$user
passwd=${user}pw
realm=$DOMAIN
domain=$DOMAIN
EOF
    ua_start "$name" env HOME="$dir/home" linphonec -c "$dir/linphonerc" -d 5 -l "$dir/log"
    ua_send "$name" "soundcard use files"
}

# lp_registered NAME: ask linphonec until it says it is registered.
lp_registered() {
    local i
    for i in $(seq 1 "${2:-20}"); do
        ua_send "$1" "status register"
        ua_wait "$1" '^registered, identity=' 1 && return 0
    done
    return 1
}

# ---- twinkle ----------------------------------------------------------------

# tw_start NAME USER PORT TRANSPORT: twinkle-console with one profile,
# USER.cfg, in $TMP/NAME/.twinkle (its HOME is $TMP/NAME).
tw_start() {
    local name=$1 user=$2 port=$3 tr=$4 dir=$TMP/$1
    mkdir -p "$dir/.twinkle"
    printf 'pcm.!default {\n    type null\n}\n' >"$dir/.asoundrc"
    cat >"$dir/.twinkle/twinkle.sys" <<EOF
sip_udp_port=$port
sip_tcp_port=$port
rtp_port=$((port + 2))
validate_audio_dev=no
dev_ringtone=alsa:default
dev_speaker=alsa:default
dev_mic=alsa:default
log_show_sip=yes
EOF
    # outbound_proxy takes no "sip:" (twinkle adds it).
    cat >"$dir/.twinkle/$user.cfg" <<EOF
user_name=$user
user_domain=$DOMAIN
auth_realm=$DOMAIN
auth_name=$user
auth_pass=${user}pw
outbound_proxy=127.0.0.1:$PORT
all_requests_to_proxy=yes
registration_time=600
register_at_startup=yes
sip_transport=$tr
codecs=g711u,g711a
pres_publish_startup=no
EOF
    ua_start "$name" env HOME="$dir" twinkle-console "$user.cfg"
}

# users_add NAME...: users of $DOMAIN whose password is NAMEpw.
users_add() {
    mkdir -p "$TMP/data"
    for u in "$@"; do
        printf '%spw\n' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
            --domain "$DOMAIN" >/dev/null 2>&1 || { echo "FAIL: users add $u"; exit 1; }
    done
}

# users_md5 NAME...: these users are challenged with MD5 alone. baresip 1.0
# (libre) and twinkle 1.10 give up on a 401/407 as soon as one of its
# challenges names an algorithm they do not know, even when an MD5
# challenge comes first (the default offers MD5 then SHA-256).
users_md5() {
    for u in "$@"; do
        "$SIPKIT" users set "$u" --algorithms MD5 --data-dir "$TMP/data" --domain "$DOMAIN" \
            >/dev/null 2>&1 || { echo "FAIL: users set $u --algorithms MD5"; exit 1; }
    done
}

# phones_up TRANSPORT: the server (default options, --trace) and three
# registered phones: alice is baresip, bob linphonec, carol twinkle-console
# (passwords NAMEpw); BS_* and LP_* variables pass through. Stops the test
# when one of them does not say it registered.
phones_up() {
    need baresip
    need linphonec
    need twinkle-console
    users_add alice bob carol
    users_md5 alice carol
    start_server --trace
    lp_start bob bob "$(peer_port)" "$1"
    tw_start carol carol "$(peer_port)" "$1"
    bs_start alice alice "$(ua_port)" "$1"
    ua_check alice "alice (baresip) registered over $1" 'registered successfully'
    if lp_registered bob; then
        echo "ok: bob (linphonec) registered over $1"
    else
        echo "FAIL: bob (linphonec) never said it registered"; FAILS=$((FAILS + 1))
    fi
    ua_check carol "carol (twinkle) registered over $1" 'carol: registration succeeded'
    [ "$FAILS" -eq 0 ] || finish
}
