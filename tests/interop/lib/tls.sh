# TLS helpers for the interop tests (sourced after common.sh): a test CA
# and certificates made with `openssl` in $TMP, and a server with a TLS
# listener. Nothing here reaches the network beyond loopback.
need openssl

# make_ca [NAME]: $TMP/NAME.pem and $TMP/NAME.key (default ca), a fresh CA
# for this test only.
make_ca() {
    local n=${1:-ca}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=sipkit test CA $n $$" -keyout "$TMP/$n.key" -out "$TMP/$n.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
        2>/dev/null || { echo "FAIL: openssl could not make a CA"; exit 1; }
}

# make_cert NAME SAN [CA]: $TMP/NAME.pem and $TMP/NAME.key signed by the
# CA (default: the one make_ca made); SAN as openssl writes it
# ("IP:127.0.0.1,DNS:localhost").
make_cert() {
    local ca=${3:-ca}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$TMP/$1.key" -out "$TMP/$1.csr" 2>/dev/null &&
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" >"$TMP/$1.ext" &&
        openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/$ca.pem" -CAkey "$TMP/$ca.key" \
            -CAcreateserial -days 2 -extfile "$TMP/$1.ext" -out "$TMP/$1.pem" 2>/dev/null ||
        { echo "FAIL: openssl could not make certificate $1"; exit 1; }
}

# start_tls_server [extra serve args...]: start_server with a TLS listener
# on 127.0.0.1 using $TMP/server.pem; sets TLS_PORT too.
start_tls_server() {
    start_server --listen-tls 127.0.0.1:0 --tls-cert "$TMP/server.pem" \
        --tls-key "$TMP/server.key" --tls-ca "$TMP/ca.pem" "$@"
    for _ in $(seq 1 100); do
        TLS_PORT=$(sed -n 's/.*event=listening transport=tls addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
            "$LOG" | head -n 1)
        [ -n "$TLS_PORT" ] && return 0
        sleep 0.1
    done
    echo "FAIL: no TLS listener in the log"; cat "$LOG"; exit 1
}

# tls_exchange [s_client args...]: send stdin over TLS to the listener and
# print what comes back (without CRs) for at most 3 s.
tls_exchange() {
    cat >"$TMP/tls_in"
    (cat "$TMP/tls_in"; sleep 2) | timeout 5 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
        -CAfile "$TMP/ca.pem" -quiet "$@" 2>"$TMP/s_client.err" | tr -d '\r'
}

# bs_tls_start NAME USER CA [TRANSPORT]: baresip (lib/ua.sh) registering
# over TLS (or TRANSPORT), trusting CA.PEM; baresip 1.0 checks neither the
# server's chain nor its name.
bs_tls_start() {
    local name=$1 user=$2 port dir=$TMP/$1
    port=$(ua_port)
    [ -f "$SILENCE" ] || silence_wav 30 "$SILENCE"
    mkdir -p "$dir"
    cat >"$dir/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$port
sip_trans_def		${4:-tls}
sip_cafile		$TMP/$3.pem
net_interface		127.0.0.1
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
module_app		menu.so
CONF
    local tr=${4:-tls} sport=$TLS_PORT
    [ "$tr" = tls ] || sport=$PORT
    printf '<sip:%s@%s;transport=%s>;auth_pass=%spw;outbound="sip:127.0.0.1:%s;transport=%s";regint=600\n' \
        "$user" "$DOMAIN" "$tr" "$user" "$sport" "$tr" >"$dir/accounts"
    : >"$dir/contacts"
    ua_start "$name" baresip -f "$dir"
}
