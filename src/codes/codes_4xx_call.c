/*
 * Catalog slice: client-failure codes 480..494, mostly about the callee,
 * dialogs and transactions: availability, unknown dialogs, loops, busy,
 * cancellation, media, events and glare. Our own summaries of RFC 3261
 * §21.4.18-§21.4.28, RFC 6665 (489) and RFC 3329 (494).
 *
 * Memory: static read-only data.
 */
#include "codes/table.h"

const struct sk_code_info sk__codes_4xx_call[] = {
    {
        .code = 480,
        .phrase = "Temporarily Unavailable",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.18",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_LATER,
        .headers = "Retry-After",
        .summary = "the user exists but cannot be reached right now",
        .meaning = "The callee is known but currently unavailable: not registered, do-not-"
                   "disturb, or not answering in a way that forbids other outcomes. Retry-After "
                   "may say when to try again.",
        .when = "Calling a user whose phone is offline or whose registration expired, or a "
                "device set to do-not-disturb.",
        .fix = "Check that the callee's device is registered (its registration may have "
               "expired or failed behind NAT). Try again later, or leave a message.",
        .notes = {{"INVITE", "The usual answer from a proxy that knows the user but has no "
                             "current registration for them."},
                  {"SUBSCRIBE", "The notifier (or the presentity) cannot take subscriptions "
                                "now; retry later."}},
    },
    {
        .code = 481,
        .phrase = "Call/Transaction Does Not Exist",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.19",
        .related = "RFC 6665 (NOTIFY, SUBSCRIBE refresh)",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "no dialog or transaction matches the request",
        .meaning = "The request claims to belong to a dialog (To tag present) or transaction "
                   "(CANCEL) that the receiver does not know: it ended, never existed, or the "
                   "receiver restarted and lost it.",
        .when = "A BYE for a call already hung up, a re-INVITE or NOTIFY after the other side "
                "dropped the dialog, a CANCEL that arrives after the final response, or "
                "requests whose Call-ID or tags were rewritten by a B2BUA or SBC.",
        .fix = "Treat the dialog as gone and clean up local state. If it happens in the middle "
               "of live calls, look for an element changing Call-ID, From/To tags or routing "
               "in-dialog requests to the wrong place (Record-Route, Contact).",
        .notes = {{"BYE", "The call is already over at the far end; consider the call ended "
                          "and stop retrying."},
                  {"NOTIFY", "The subscriber no longer knows the subscription: the notifier "
                             "must terminate it (RFC 6665) and stop sending."},
                  {"SUBSCRIBE", "A refresh of an expired subscription: start a new one with "
                                "an out-of-dialog SUBSCRIBE."},
                  {"CANCEL", "The INVITE already got its final response or was never seen; "
                             "if the call was answered, end it with BYE."},
                  {"re-INVITE", "The far end has lost the dialog: end the call with BYE "
                                "(RFC 3261 §14.1)."}},
    },
    {
        .code = 482,
        .phrase = "Loop Detected",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.20, §16.3",
        .sent_by = PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Via",
        .summary = "the request came back to a proxy it already passed",
        .meaning = "A proxy found itself in the Via path of the request with the same routing "
                   "state, so the request is looping.",
        .when = "Misrouted dial plans where proxy A sends to B and B back to A, forwarding "
                "rules that point at themselves, or a proxy that does not recognize its own "
                "address (aliases, NAT) and forwards to itself.",
        .fix = "Fix the routing: make each proxy recognize all its own names and addresses, "
               "and check forwarding rules and trunk routes for cycles.",
    },
    {
        .code = 483,
        .phrase = "Too Many Hops",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.21, §16.3",
        .sent_by = PROXY | UAS,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Max-Forwards",
        .summary = "Max-Forwards reached zero",
        .meaning = "The request arrived with Max-Forwards at 0 and could not be forwarded "
                   "again. It usually means a routing loop that loop detection did not catch.",
        .when = "Loops between proxies or B2BUAs (a B2BUA resets Via, hiding the loop from 482 "
                "detection), or a client sending a too-small Max-Forwards.",
        .fix = "Look for a loop in the routing; send Max-Forwards: 70 as RFC 3261 recommends.",
    },
    {
        .code = 484,
        .phrase = "Address Incomplete",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.22",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .summary = "the dialled number is incomplete",
        .meaning = "The Request-URI is incomplete: more digits are needed to route it.",
        .when = "Dialling too few digits (overlap dialling toward a PSTN gateway), or a dial "
                "plan that matches a prefix but expects more.",
        .fix = "Dial the full number (with country and area code); clients doing overlap "
               "dialling resend with more digits.",
    },
    {
        .code = 485,
        .phrase = "Ambiguous",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.23",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Contact",
        .summary = "the address matches several users; be more specific",
        .meaning = "The Request-URI matched more than one user. The response may list the "
                   "candidates in Contact.",
        .when = "Dialling by name or by a partial user name in directories that match several "
                "entries.",
        .fix = "Pick one of the addresses in Contact, or dial a complete, unique address.",
    },
    {
        .code = 486,
        .phrase = "Busy Here",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.24",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_LATER,
        .headers = "Retry-After",
        .summary = "the callee's device is busy",
        .meaning = "The callee was reached but this device is busy (or the user pressed "
                   "'busy'). Other devices of the same user may still be tried; Retry-After "
                   "may say when.",
        .when = "Calling a phone that is on another call without call waiting, or a user who "
                "rejected the call on one device.",
        .fix = "Try again later, or try another device of the user; a proxy may forward to "
               "voicemail. Use 600 instead when the user is busy on every device.",
        .notes = {{"INVITE", "A forking proxy keeps other branches ringing; only 6xx ends all "
                             "of them."}},
    },
    {
        .code = 487,
        .phrase = "Request Terminated",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.25, §9.2",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .summary = "the INVITE was cancelled (CANCEL or BYE)",
        .meaning = "The request was ended by a CANCEL (or a BYE) before it completed. It is "
                   "the expected final answer to an INVITE that the caller cancelled.",
        .when = "When the caller hangs up while the phone is ringing, when a forking proxy "
                "cancels the other branches after one device answered, or on the branches a "
                "proxy cancels when its no-answer timer fires.",
        .fix = "Nothing to fix if the caller cancelled: the client ACKs the 487 and the call "
               "attempt is over. If you did not cancel, look for a forking proxy or a timer "
               "that cancelled the call.",
        .notes = {{"INVITE", "The normal end of a cancelled call: CANCEL gets its own 200, "
                             "the INVITE gets 487, and the caller's stack sends ACK."}},
    },
    {
        .code = 488,
        .phrase = "Not Acceptable Here",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.26",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Warning, Accept",
        .summary = "the session offer (codecs, media) is not acceptable",
        .meaning = "The callee cannot accept the session described in the SDP offer: no common "
                   "codec, an unsupported media type, transport (RTP/SAVP vs RTP/AVP) or "
                   "crypto. A Warning header (codes 3xx) may say which.",
        .when = "Calls between endpoints without a common codec (e.g. only Opus vs only G.711), "
                "SRTP required on one side and refused on the other, or video offered to an "
                "audio-only gateway.",
        .fix = "Compare the offered SDP with what the callee supports: add a common codec "
               "(PCMU/PCMA are the safe baseline), match the media profile (AVP vs SAVP, "
               "DTLS) and drop unsupported streams.",
        .notes = {{"INVITE", "The offer in the INVITE was refused; the call fails."},
                  {"re-INVITE", "Only the change is refused; the existing session continues "
                                "with its previous parameters."}},
    },
    {
        .code = 489,
        .phrase = "Bad Event",
        .rfc = "RFC6665",
        .section = "RFC 6665",
        .related = "RFC 3903 (PUBLISH)",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Event, Allow-Events",
        .summary = "the event package is not supported; see Allow-Events",
        .meaning = "The request names an event package (Event header) the receiver does not "
                   "understand or support. The response lists supported packages in "
                   "Allow-Events.",
        .when = "Subscribing to presence, dialog or message-summary at a server that does not "
                "offer that package, or a missing or misspelt Event header.",
        .fix = "Check the Event header and use a package listed in Allow-Events, or subscribe "
               "at the server that provides the package.",
        .notes = {{"SUBSCRIBE", "The notifier does not offer this event package."},
                  {"PUBLISH", "The state compositor does not accept publications for this "
                              "package (RFC 3903)."},
                  {"NOTIFY", "The subscriber received a NOTIFY for a package it does not "
                             "understand."}},
    },
    {
        .code = 491,
        .phrase = "Request Pending",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.27, §14.1",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_LATER,
        .summary = "glare: another offer is pending in this dialog",
        .meaning = "The receiver has its own pending request in the same dialog (typically a "
                   "re-INVITE or UPDATE crossing yours), so it cannot take yours now.",
        .when = "Both sides send a re-INVITE at the same time (hold, transfer, codec change); "
                "each gets a 491.",
        .fix = "Wait a random time and retry: 2.1-4 s if you created the dialog (you sent "
               "the original INVITE), 0-2 s otherwise (RFC 3261 §14.1). Clients do this "
               "automatically.",
        .notes = {{"re-INVITE", "The classic glare case; the session continues unchanged "
                                "until one retry succeeds."}},
    },
    {
        .code = 493,
        .phrase = "Undecipherable",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.28, §23",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Content-Type",
        .summary = "an encrypted (S/MIME) body cannot be decrypted",
        .meaning = "The request carried an encrypted S/MIME body whose key the receiver does "
                   "not have. The response may carry the receiver's certificate.",
        .when = "Rare: end-to-end S/MIME encryption with an out-of-date or wrong certificate "
                "for the recipient.",
        .fix = "Encrypt with the recipient's current certificate (from the response, if "
               "given) or send the body unencrypted.",
    },
    {
        .code = 494,
        .phrase = "Security Agreement Required",
        .rfc = "RFC3329",
        .section = "RFC 3329",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Security-Server, Security-Client, Security-Verify, Require: sec-agree",
        .summary = "negotiate a security mechanism first (Security-Server)",
        .meaning = "The server requires a security mechanism agreement before it will process "
                   "the request. Security-Server lists the mechanisms it offers (TLS, IPsec, "
                   "digest).",
        .when = "IMS registrations (the P-CSCF requires IPsec or TLS setup), and clients that "
                "sent Require: sec-agree.",
        .fix = "Pick a mechanism from Security-Server, set it up, and resend with "
               "Security-Verify echoing the server's list, Security-Client with yours, and "
               "Require/Proxy-Require: sec-agree.",
        .notes = {{"REGISTER", "The usual place: IMS registration sets up the security "
                               "association with the P-CSCF."}},
    },
};

const size_t sk__codes_4xx_call_count = sizeof(sk__codes_4xx_call) / sizeof(sk__codes_4xx_call[0]);
