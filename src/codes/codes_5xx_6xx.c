/*
 * Catalog slice: server failures (5xx) and global failures (6xx). Our own
 * summaries of RFC 3261 §21.5-§21.6 and of RFC 8599 (555), RFC 3312 (580),
 * RFC 8197 (607) and RFC 8688 (608).
 *
 * Memory: static read-only data.
 */
#include "codes/table.h"

const struct sk_code_info sk__codes_5xx_6xx[] = {
    {
        .code = 500,
        .phrase = "Server Internal Error",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.1",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_LATER,
        .headers = "Retry-After",
        .summary = "the server hit an unexpected error",
        .meaning = "An unexpected condition kept the server from handling a request that may "
                   "well be valid. With Retry-After the condition is temporary. Proxies also "
                   "send 500 when every branch answered 503.",
        .when = "Server bugs, crashed scripts, database errors, or a downstream overload "
                "turned into 500 by a proxy.",
        .fix = "Check the server's logs for the failing request; retry later if Retry-After "
               "is present, or try another server for the domain.",
        .notes = {{"INVITE", "Also sent when a re-INVITE arrives while the UAS is still "
                             "processing an earlier one (RFC 3261 §14.2), with Retry-After "
                             "0-10 s."}},
    },
    {
        .code = 501,
        .phrase = "Not Implemented",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.2",
        .sent_by = UAS | REGISTRAR,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Allow",
        .summary = "the method is not implemented at all",
        .meaning = "The server does not recognize the method and cannot support it for any "
                   "user. Proxies forward every method, so 501 comes from the end point.",
        .when = "Sending newer methods (UPDATE, PRACK, PUBLISH, MESSAGE, REFER, INFO) to old "
                "or minimal devices.",
        .fix = "Check the target's Allow header (an OPTIONS request shows it) and avoid the "
               "method, or use a device that supports it.",
    },
    {
        .code = 502,
        .phrase = "Bad Gateway",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.3",
        .sent_by = PROXY | UAS,
        .retry = SK_CODE_RETRY_LATER,
        .summary = "a gateway or proxy got an invalid response downstream",
        .meaning = "The server, acting as gateway or proxy, received an invalid response from "
                   "the next server it contacted. Gateways also use it when the other network "
                   "(PSTN, another SIP domain) failed.",
        .when = "Trunk or carrier failures behind a gateway, unresolvable or misbehaving next "
                "hops, or a downstream element returning garbage.",
        .fix = "Check the link between the gateway and the next network (trunk status, DNS of "
               "the next hop); the caller can only retry later or via another route.",
    },
    {
        .code = 503,
        .phrase = "Service Unavailable",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.4",
        .related = "RFC 3263 (failover), RFC 7339 (overload control)",
        .sent_by = UAS | PROXY | REGISTRAR | LOCAL,
        .retry = SK_CODE_RETRY_LATER,
        .headers = "Retry-After",
        .summary = "overloaded or down for maintenance; try another server or later",
        .meaning = "The server is temporarily unable to handle requests (overload, "
                   "maintenance, no route or trunk available). Retry-After says how long to "
                   "stay away. A client stack also reports 503 to itself on a transport error.",
        .when = "Overloaded or restarting servers, PBXs with no free trunk, an outbound route "
                "with every gateway down, or an unreachable next hop (ICMP error, TCP "
                "connection refused).",
        .fix = "Try the next server for the domain (DNS SRV order, RFC 3263) and do not send "
               "to this one for the Retry-After time. If it is your server, check its load, "
               "upstream trunks and routing.",
        .notes = {{"proxy", "A proxy should not relay a 503 upstream unless it too is "
                            "unavailable for everything; if all branches say 503 it answers "
                            "500 instead (RFC 3261 §16.7)."},
                  {"REGISTER", "Registrar down or overloaded: fail over to a backup registrar "
                               "and back off."}},
    },
    {
        .code = 504,
        .phrase = "Server Time-out",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.5",
        .sent_by = PROXY | UAS,
        .retry = SK_CODE_RETRY_LATER,
        .summary = "an external server the proxy relied on did not answer",
        .meaning = "The server did not get a timely answer from another server it needed to "
                   "process the request (a location service, DNS, a database, an ENUM or "
                   "routing engine).",
        .when = "Slow or unreachable back-end services behind a proxy or gateway; some "
                "gateways also use it when the far network timed out.",
        .fix = "Check the back ends the server depends on (DNS, database, routing service) "
               "and their timeouts. Unlike 408, the user was not the problem.",
    },
    {
        .code = 505,
        .phrase = "Version Not Supported",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.6",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .summary = "the SIP version in the request is not supported",
        .meaning = "The request line carried a SIP version the server does not support (only "
                   "SIP/2.0 is in use).",
        .when = "Hand-written or corrupted messages (\"SIP/1.0\", \"SIP/2.1\", lower case), "
                "or non-SIP traffic sent to a SIP port.",
        .fix = "Send SIP/2.0 exactly, in the request line and in every Via.",
    },
    {
        .code = 513,
        .phrase = "Message Too Large",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.5.7",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .summary = "the message is larger than the server can process",
        .meaning = "The whole message is longer than the server can process.",
        .when = "Large INVITEs (many codecs, ICE candidates, long Via/Record-Route chains) "
                "over UDP, where fragmented datagrams are also often dropped silently.",
        .fix = "Shrink the message, or use TCP: RFC 3261 §18.1.1 says to switch to TCP for "
               "requests larger than 1300 bytes when the path MTU is unknown.",
    },
    {
        .code = 555,
        .phrase = "Push Notification Service Not Supported",
        .rfc = "RFC8599",
        .section = "RFC 8599",
        .sent_by = PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Contact (pn-provider), Feature-Caps",
        .summary = "the proxy does not support the requested push service",
        .meaning = "A REGISTER asked for push notifications through a provider (the pn-provider "
                   "Contact parameter) that the proxy does not support. Feature-Caps lists the "
                   "push services it does support (+sip.pns).",
        .when = "Mobile softphones registering with Apple or Google push parameters through a "
                "proxy configured for other providers or none.",
        .fix = "Register with a pn-provider listed in the response's Feature-Caps, or without "
               "push parameters (and keep the app awake some other way).",
        .notes = {{"REGISTER", "The only method it applies to."}},
    },
    {
        .code = 580,
        .phrase = "Precondition Failure",
        .rfc = "RFC3312",
        .section = "RFC 3312",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Require: precondition, Content-Type",
        .summary = "a mandatory session precondition (QoS) cannot be met",
        .meaning = "The session could not be set up because a mandatory precondition in the SDP "
                   "(typically quality-of-service resource reservation) cannot be met.",
        .when = "IMS and cable networks using preconditions when bandwidth reservation fails "
                "or the peer cannot honour a mandatory strength.",
        .fix = "Check the SDP precondition attributes (a=curr, a=des) and the network's "
               "resource reservation; offer optional instead of mandatory strength if "
               "acceptable.",
        .notes = {{"INVITE", "Ends the call attempt."},
                  {"UPDATE", "The session update is refused."}},
    },
    {
        .code = 600,
        .phrase = "Busy Everywhere",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.6.1",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_LATER,
        .headers = "Retry-After",
        .summary = "the callee is busy and no other device will answer",
        .meaning = "The callee was reached and is busy, and the end system knows no other "
                   "device or destination will take the call. Unlike 486 it ends every forked "
                   "branch.",
        .when = "From devices or services that know the user's whole situation (a presence-"
                "aware server, a single-device user with no voicemail).",
        .fix = "Try again later (Retry-After may say when); do not try other devices.",
    },
    {
        .code = 603,
        .phrase = "Decline",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.6.2",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Retry-After",
        .summary = "the callee declined the call",
        .meaning = "The callee's device was reached and the user explicitly does not want to "
                   "take part. It stops forking, so other devices of the user stop ringing.",
        .when = "The user pressed 'reject'/'decline', or a call-screening rule refused the "
                "caller.",
        .fix = "Respect the refusal. Retry-After, if present, suggests a better time to call.",
        .notes = {{"INVITE", "Rejects the call on every device of the user."},
                  {"SUBSCRIBE", "The user refuses the subscription (for example a presence "
                                "authorization denied)."}},
    },
    {
        .code = 604,
        .phrase = "Does Not Exist Anywhere",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.6.3",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "the user does not exist anywhere",
        .meaning = "The server has authoritative information that the user in the Request-URI "
                   "does not exist anywhere, so no other server will find them either.",
        .when = "Number portability databases and authoritative directories answering for "
                "unassigned numbers or deleted accounts.",
        .fix = "Check the number or address; there is no point retrying elsewhere.",
    },
    {
        .code = 606,
        .phrase = "Not Acceptable",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.6.4",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Warning, Accept",
        .summary = "the session offer is not acceptable to the user anywhere",
        .meaning = "The user was reached but some aspect of the session (media, bandwidth, "
                   "addressing style) is not acceptable to them at any device. A Warning "
                   "header may explain. The global counterpart of 488.",
        .when = "Offering only video to a user who accepts only audio, or codecs no device of "
                "the user supports.",
        .fix = "Offer a session the user can accept (common codecs, audio only) and call "
               "again.",
    },
    {
        .code = 607,
        .phrase = "Unwanted",
        .rfc = "RFC8197",
        .section = "RFC 8197",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "the called user marked the call as unwanted (spam)",
        .meaning = "The called party explicitly flags the call as unwanted, such as a "
                   "robocall or spam. Networks may feed it to call-analytics systems to block "
                   "similar calls.",
        .when = "The user pressed a 'block/spam' button instead of 'decline'.",
        .fix = "If your calls are legitimate but get 607, stop calling that user, and check "
               "that your caller ID is correct and signed (STIR/SHAKEN) so analytics do not "
               "flag you.",
        .notes = {{"INVITE", "Ends the call attempt on every device (like other 6xx)."}},
    },
    {
        .code = 608,
        .phrase = "Rejected",
        .rfc = "RFC8688",
        .section = "RFC 8688",
        .sent_by = PROXY | UAS,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Call-Info (purpose=jwscard)",
        .summary = "an intermediary (call analytics) rejected the call",
        .meaning = "A network element, not the called user, rejected the call, typically a "
                   "call-analytics or robocall-blocking service. A Call-Info header with "
                   "purpose=jwscard may point to a signed contact card for disputing it.",
        .when = "Calls from numbers with a bad reputation, unsigned or spoofed caller ID, or "
                "high call volume patterns.",
        .fix = "Use the contact in Call-Info (jwscard) to seek redress with the operator of "
               "the blocking service; make sure your calls are signed and your caller ID is "
               "valid.",
        .notes = {{"INVITE", "Ends the call attempt; unlike 607 the callee did not see the "
                             "call."}},
    },
};

const size_t sk__codes_5xx_6xx_count = sizeof(sk__codes_5xx_6xx) / sizeof(sk__codes_5xx_6xx[0]);
