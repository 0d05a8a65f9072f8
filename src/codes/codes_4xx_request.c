/*
 * Catalog slice: client-failure codes 400..416, the ones about the request
 * itself: syntax, authentication, authorization, the target, the method and
 * the body. Our own summaries of RFC 3261 §21.4.1-§21.4.14 and RFC 3903.
 *
 * Memory: static read-only data.
 */
#include "codes/table.h"

const struct sk_code_info sk__codes_4xx_request[] = {
    {
        .code = 400,
        .phrase = "Bad Request",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.1",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Warning",
        .summary = "malformed request; the reason phrase should name the defect",
        .meaning = "The request could not be understood because of malformed syntax or a "
                   "missing or inconsistent mandatory header. The reason phrase (and sometimes a "
                   "Warning header) should say exactly what is wrong.",
        .when = "With hand-built or buggy messages: a missing Via/From/To/Call-ID/CSeq/Max-"
                "Forwards, a CSeq method that differs from the request method, a bad "
                "Content-Length, a broken URI, or stray bytes from a NAT helper (SIP ALG) that "
                "rewrote the message.",
        .fix = "Read the reason phrase, then capture the request as sent on the wire and check "
               "the named header. Disable SIP ALG on routers if messages get mangled in "
               "transit. Do not resend unchanged.",
    },
    {
        .code = 401,
        .phrase = "Unauthorized",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.2, §22.2",
        .related = "RFC 7616, RFC 8760 (digest algorithms)",
        .sent_by = UAS | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "WWW-Authenticate (response), Authorization (retry)",
        .summary = "credentials needed: resend with Authorization",
        .meaning = "The user agent or registrar wants the caller to prove who it is. The "
                   "WWW-Authenticate header carries a digest challenge (realm, nonce, "
                   "algorithm, qop). It is a normal step, not an error, the first time.",
        .when = "On the first REGISTER to almost any registrar, and on requests sent straight "
                "to a UA or B2BUA that authenticates. A second 401 after you answered the "
                "challenge means the credentials were refused (wrong user or password, or a "
                "realm mismatch); a 401 with stale=true means only the nonce expired.",
        .fix = "Resend the same request with CSeq+1 and an Authorization header computed from "
               "the challenge (username, realm, nonce, uri, response). If it fails again, "
               "check the password, the authentication user name (often not the same as the "
               "display or extension number) and the realm. On stale=true retry with the new "
               "nonce without asking the user.",
        .notes = {{"REGISTER", "Expected on every first registration; clients answer it "
                               "automatically. Repeated 401s usually mean a wrong password."},
                  {"INVITE", "Seen when calling a UA or B2BUA directly; the caller acks the "
                             "401, then sends a new INVITE with Authorization."},
                  {"ACK/CANCEL", "Never challenged: they cannot be resent with credentials. "
                                 "An ACK for a 2xx carries the INVITE's credentials."}},
    },
    {
        .code = 402,
        .phrase = "Payment Required",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.3",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "reserved; some providers use it for an empty balance",
        .meaning = "Reserved by RFC 3261 for future use and not defined further. Some prepaid "
                   "providers send it to say the account has no credit.",
        .when = "From carriers or billing systems when a prepaid account runs out, or a "
                "destination is not covered by the plan.",
        .fix = "Check the account balance and rate plan with the provider.",
    },
    {
        .code = 403,
        .phrase = "Forbidden",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.4",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Warning",
        .summary = "understood but refused; credentials will not help",
        .meaning = "The server understood the request and refuses it; authenticating (again) "
                   "will not change the answer. Policy, not identity, is the issue.",
        .when = "Calling a destination the account may not call (international, premium), an "
                "address blocked by an ACL or fail2ban, a REGISTER for an address of record "
                "the authenticated user does not own, or a disabled account. Many servers "
                "also answer 403 instead of a second 401 when the password is wrong.",
        .fix = "Look at the reason phrase and the server's logs; check the account's "
               "permissions, that the From/To user matches the authentication user, and that "
               "your IP is not banned. Do not retry unchanged.",
        .notes = {{"REGISTER", "The authenticated user may not register that address of "
                               "record, or the account is disabled or the IP is blocked."},
                  {"INVITE", "The destination or calling pattern is not allowed for this "
                             "account, or the caller is blocked."}},
    },
    {
        .code = 404,
        .phrase = "Not Found",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.5",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "no such user in the domain of the Request-URI",
        .meaning = "The user in the Request-URI does not exist at the domain it names, as far "
                   "as this server knows. It is definite for this server: the user is unknown, "
                   "not merely offline.",
        .when = "Dialling a wrong number or extension, a typo in the user part, a number in the "
                "wrong format for the dial plan (missing country code or prefix), or a "
                "REGISTER sent to the wrong domain.",
        .fix = "Check the dialled user or number and its format (E.164 with +, local prefix), "
               "and that the Request-URI host is the right domain. If the user exists but is "
               "not registered, a server should say 480 instead.",
    },
    {
        .code = 405,
        .phrase = "Method Not Allowed",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.6",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Allow",
        .summary = "method understood but not allowed here; see Allow",
        .meaning = "The server knows the method but does not allow it for this Request-URI. "
                   "The response must list the allowed methods in Allow.",
        .when = "Sending REGISTER to something that is not a registrar, MESSAGE or SUBSCRIBE "
                "to a device that does not do them, or INVITE to an address that only "
                "receives messages.",
        .fix = "Read the Allow header and use one of those methods, or send the request to a "
               "server that offers the function (the registrar, the presence server).",
    },
    {
        .code = 406,
        .phrase = "Not Acceptable",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.7",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Accept, Accept-Encoding, Accept-Language",
        .summary = "cannot answer in a form your Accept headers allow",
        .meaning = "The server can only produce a response body in a type, encoding or "
                   "language that the request's Accept headers exclude.",
        .when = "Rare: a SUBSCRIBE whose Accept lists only a body format the notifier cannot "
                "produce (for example presence in a format it does not support).",
        .fix = "Widen the Accept, Accept-Encoding or Accept-Language headers of the request to "
               "include a format the server can produce.",
        .notes = {{"SUBSCRIBE", "The notifier cannot send NOTIFY bodies in any type listed in "
                                "Accept; add the event package's default type."}},
    },
    {
        .code = 407,
        .phrase = "Proxy Authentication Required",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.8, §22.3",
        .related = "RFC 7616, RFC 8760 (digest algorithms)",
        .sent_by = PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Proxy-Authenticate (response), Proxy-Authorization (retry)",
        .summary = "the proxy wants credentials: resend with Proxy-Authorization",
        .meaning = "A proxy on the path wants the caller to authenticate before it forwards the "
                   "request. The challenge is in Proxy-Authenticate; several proxies may each "
                   "add one.",
        .when = "On the first INVITE, MESSAGE or SUBSCRIBE through an authenticating proxy or "
                "PBX (the normal way calls are authorized). A second 407 after answering means "
                "the credentials were refused.",
        .fix = "Acknowledge the 407 (for INVITE), then resend the request with CSeq+1 and one "
               "Proxy-Authorization per challenge, keyed by realm. Check the password and "
               "authentication user if it repeats.",
        .notes = {{"INVITE", "Caller sends ACK for the 407 (same branch), then a new INVITE "
                             "with Proxy-Authorization and a new branch."},
                  {"REGISTER", "Registrars use 401; a 407 to REGISTER means an outbound proxy "
                               "in front of the registrar asked for credentials."}},
    },
    {
        .code = 408,
        .phrase = "Request Timeout",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.9",
        .sent_by = UAS | PROXY | LOCAL,
        .retry = SK_CODE_RETRY_LATER,
        .headers = "Expires",
        .summary = "no final response in time",
        .meaning = "No final response could be produced in time: the server could not find the "
                   "user before the deadline, or the request's Expires ran out. A client stack "
                   "also reports 408 to itself when its transaction times out (Timer B or F, "
                   "32 s) with no answer at all.",
        .when = "When the callee's device is registered but unreachable (stale NAT binding, "
                "phone lost network), when a proxy's Timer C expires on an INVITE, or when the "
                "next hop never answers at all.",
        .fix = "Check reachability of the next hop and of the callee: firewall and NAT (keep-"
               "alives, rport), DNS, the registered Contact address. Retrying later may "
               "work.",
        .notes = {{"INVITE", "A proxy sends 408 when Timer C (over 3 min) expires without a "
                             "final answer; the phone may have rung out."},
                  {"REGISTER", "The registrar or its database did not answer in time; retry "
                               "with back-off."},
                  {"re-INVITE", "No answer inside the dialog: treat the dialog as dead and send "
                                "BYE (RFC 3261 §14.1)."}},
    },
    {
        .code = 410,
        .phrase = "Gone",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.10",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "the user existed here but is gone for good",
        .meaning = "The user used to exist at this server but no longer does, and no forwarding "
                   "address is known.",
        .when = "Calling a decommissioned number or a deleted account.",
        .fix = "Remove the address from address books and configurations; find the user's new "
               "address another way.",
    },
    {
        .code = 412,
        .phrase = "Conditional Request Failed",
        .rfc = "RFC3903",
        .section = "RFC 3903",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "SIP-If-Match, SIP-ETag",
        .summary = "PUBLISH refresh refers to state the server no longer has",
        .meaning = "A PUBLISH carried SIP-If-Match with an entity tag the event state "
                   "compositor does not know (the publication expired or the server restarted).",
        .when = "When a presence client refreshes or modifies its publication after it "
                "expired, or after the server lost its state.",
        .fix = "Send a fresh initial PUBLISH: no SIP-If-Match, full body. Use the SIP-ETag of "
               "its 200 for later refreshes, and refresh before Expires runs out.",
        .notes = {{"PUBLISH", "The only method that uses it."}},
    },
    {
        .code = 413,
        .phrase = "Request Entity Too Large",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.11",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Retry-After",
        .summary = "the request body is larger than the server accepts",
        .meaning = "The body of the request is bigger than the server is willing or able to "
                   "process. With Retry-After the condition is temporary.",
        .when = "Large SDP offers with many codecs and candidates, big MESSAGE bodies, or "
                "multipart bodies with attachments.",
        .fix = "Shrink the body (fewer codecs or ICE candidates, smaller messages). If a "
               "Retry-After is present, retry after that time.",
    },
    {
        .code = 414,
        .phrase = "Request-URI Too Long",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.12",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .summary = "the Request-URI is longer than the server accepts",
        .meaning = "The Request-URI is longer than the server is willing to interpret.",
        .when = "With URIs carrying many parameters or embedded headers, often built by "
                "gateways or application servers.",
        .fix = "Shorten the Request-URI: drop unneeded parameters and escaped headers.",
    },
    {
        .code = 415,
        .phrase = "Unsupported Media Type",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.13",
        .sent_by = UAS | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Accept, Accept-Encoding, Accept-Language, Content-Type",
        .summary = "the body's type, encoding or language is not supported",
        .meaning = "The server cannot handle the body: its Content-Type, Content-Encoding or "
                   "language is unsupported. The response lists what it does accept in Accept, "
                   "Accept-Encoding or Accept-Language.",
        .when = "Sending an INVITE with a body other than application/sdp (or a multipart "
                "the UA cannot parse), a MESSAGE with a content type the device does not "
                "display, or a compressed body.",
        .fix = "Resend with a body in one of the types listed in Accept. Note the difference "
               "from 488: 415 is about the body's format, 488 about the session it "
               "describes.",
        .notes = {{"INVITE", "Usually the body is not application/sdp, or is a multipart "
                             "with unknown parts."},
                  {"MESSAGE", "Try text/plain; the device does not render the type sent."}},
    },
    {
        .code = 416,
        .phrase = "Unsupported URI Scheme",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.14",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .summary = "the Request-URI scheme is not supported (tel:, sips:, ...)",
        .meaning = "The scheme of the Request-URI (tel:, sips:, im:, pres:, ...) is not one the "
                   "server supports.",
        .when = "Sending to a tel: URI through a proxy that only routes sip:, or a sips: URI to "
                "a server without TLS.",
        .fix = "Use a sip: URI (for numbers, sip:+15551234567@domain;user=phone), or a server "
               "that supports the scheme.",
    },
};

const size_t sk__codes_4xx_request_count =
    sizeof(sk__codes_4xx_request) / sizeof(sk__codes_4xx_request[0]);
