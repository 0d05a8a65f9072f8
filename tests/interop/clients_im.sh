#!/bin/sh
# MESSAGE and presence between real phones through `sipkit serve` with its
# default options, over UDP: alice is baresip (publishing, watching bob),
# bob is linphonec (publishing, watching alice), carol is twinkle-console.
#   - MESSAGE alice -> bob, bob -> alice, carol -> bob, bob -> carol, each
#     shown by the receiving phone;
#   - alice sees bob Online (his PUBLISH, NOTIFYed through her SUBSCRIBE);
#   - bob subscribes to alice and sees her Online, Offline when she
#     publishes closed, Online again when she publishes open;
#   - bob quits (his PUBLISH with Expires 0) and alice sees him Offline.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/ua.sh"
LP_PUBLISH=1 BS_PUBINT=600 BS_CONTACTS=bob phones_up udp
# -- MESSAGE ------------------------------------------------------------------
ua_send alice "/message hello-bob-from-alice"
ua_check bob "bob (linphonec) got alice's MESSAGE" \
    'Message received from sip:alice@[^ ]*: hello-bob-from-alice'
ua_send bob "chat sip:alice@$DOMAIN hello-alice-from-bob"
ua_check alice "alice (baresip) got bob's MESSAGE" 'sip:bob@[^ ]*: "hello-alice-from-bob"'
ua_send carol "message sip:bob@$DOMAIN hello-bob-from-carol"
ua_check bob "bob (linphonec) got carol's MESSAGE" \
    'Message received from sip:carol@[^ ]*: hello-bob-from-carol'
ua_send bob "chat sip:carol@$DOMAIN hello-carol-from-bob"
ua_check carol "carol (twinkle) got bob's MESSAGE" '^hello-carol-from-bob'

# -- presence -----------------------------------------------------------------
# contacts_show NAME PATTERN: ask baresip for its contact list until PATTERN.
contacts_show() {
    for _ in $(seq 1 20); do
        ua_mark alice
        ua_send alice /contacts
        ua_wait alice "$1" 1 && return 0
    done
    return 1
}
contacts_show 'Online +<sip:bob@' && echo "ok: alice (baresip) sees bob Online" ||
    { echo "FAIL: alice never saw bob Online"; FAILS=$((FAILS + 1)); }

# baresip may publish <basic>unknown</basic> while it starts, which is not
# a PIDF status: the server refuses it (400, unit.events_xml); relayed,
# linphonec would answer the NOTIFY 488 and end bob's subscription.
ua_mark bob
ua_send bob "friend add \"alice\" sip:alice@$DOMAIN"
ua_check bob "bob (linphonec) sees alice Online" 'Friend "alice" <sip:alice@[^>]*> is Online'
ua_mark bob
ua_send alice /presence_offline
ua_check bob "bob (linphonec) sees alice go Offline" 'Friend "alice" <sip:alice@[^>]*> is Offline'
ua_mark bob
ua_send alice /presence_online
ua_check bob "bob (linphonec) sees alice back Online" 'Friend "alice" <sip:alice@[^>]*> is Online'

ua_send bob quit
contacts_show 'Offline +<sip:bob@' && echo "ok: alice (baresip) sees bob Offline after he quit" ||
    { echo "FAIL: alice never saw bob Offline"; FAILS=$((FAILS + 1)); }
finish
