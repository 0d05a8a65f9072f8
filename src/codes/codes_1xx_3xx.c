/*
 * Catalog slice: provisional (1xx), success (2xx) and redirection (3xx)
 * codes. Texts are our own summaries of RFC 3261 §21.1-§21.3 and of the
 * extensions that registered codes here (RFC 6228, RFC 6665, RFC 5839).
 *
 * Memory: static read-only data.
 */
#include "codes/table.h"

const struct sk_code_info sk__codes_1xx_3xx[] = {
    {
        .code = 100,
        .phrase = "Trying",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.1.1",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NONE,
        .summary = "the next hop received the request and is working on it",
        .meaning = "A hop-by-hop acknowledgement: the server that sent it (usually the next "
                   "proxy, not the callee) has the request and is processing it. It says "
                   "nothing about whether the call will succeed.",
        .when = "Right after sending an INVITE, often within milliseconds. Proxies send it "
                "themselves and never forward a 100 they receive.",
        .fix = "Nothing to fix. Its job is to stop the client from retransmitting the INVITE "
               "over UDP (Timer A); if it never arrives the INVITE keeps being resent until "
               "Timer B fires (32 s by default).",
        .notes = {{"INVITE", "A stateful proxy answers 100 within 200 ms so the caller stops "
                             "retransmitting; ringing (180) comes from the callee later."},
                  {"non-INVITE", "Rarely seen: a server only sends 100 to a non-INVITE "
                                 "request when the final answer will take a while."}},
    },
    {
        .code = 180,
        .phrase = "Ringing",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.1.2",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NONE,
        .headers = "Contact, RSeq, Require",
        .summary = "the callee's device is alerting the user",
        .meaning = "The called user agent has found the user and is alerting them (ringing). "
                   "It carries a To tag and so creates an early dialog with that device.",
        .when = "During call setup, after 100 Trying. With a forking proxy you may get several "
                "180s with different To tags, one per ringing device.",
        .fix = "Nothing to fix. The caller should play local ringback unless the 180 carries "
               "SDP (early media), in which case the callee supplies the audio. If you hear "
               "silence while ringing, check whether a 180 with SDP arrived.",
        .notes = {{"INVITE", "The only method that rings; a 180 to anything else is a bug at "
                             "the sender."},
                  {"100rel", "With Require: 100rel and an RSeq header the 180 is sent "
                             "reliably (RFC 3262): the caller must answer it with PRACK."}},
    },
    {
        .code = 181,
        .phrase = "Call Is Being Forwarded",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.1.3",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NONE,
        .headers = "History-Info, Diversion",
        .summary = "the call is being forwarded to another destination",
        .meaning = "A server on the path is forwarding the call to a different set of "
                   "destinations (call forwarding, hunt group).",
        .when = "When the callee has forwarding configured; some servers also add History-Info "
                "or Diversion to say where the call went.",
        .fix = "Nothing to fix; it is informational. Keep waiting for the final response.",
    },
    {
        .code = 182,
        .phrase = "Queued",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.1.4",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NONE,
        .summary = "the callee is busy; the call is waiting in a queue",
        .meaning = "The callee is temporarily unavailable but the server has queued the call "
                   "rather than rejecting it. The reason phrase may say more, such as the "
                   "position in the queue.",
        .when = "With call centres and ACDs; several 182s may arrive as the queue moves.",
        .fix = "Nothing to fix; wait for the final response or hang up (CANCEL).",
    },
    {
        .code = 183,
        .phrase = "Session Progress",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.1.5",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NONE,
        .headers = "Content-Type, RSeq, Require",
        .summary = "call progress, usually with early media (SDP)",
        .meaning = "Carries progress information not covered by the other 1xx codes. In "
                   "practice it almost always carries an SDP answer so the callee (or a "
                   "gateway) can play early media: ringback tones, announcements, IVR prompts.",
        .when = "From PSTN gateways and PBXs during call setup, and in precondition (QoS) "
                "negotiation (RFC 3312), usually sent reliably with 100rel.",
        .fix = "Nothing to fix. If the caller hears nothing, check that it plays media from "
               "the 183's SDP and that RTP can reach it (NAT, firewall).",
        .notes = {{"INVITE", "The SDP in a 183 is the answer to the INVITE's offer for the "
                             "early dialog; a later 200 normally repeats the same answer."}},
    },
    {
        .code = 199,
        .phrase = "Early Dialog Terminated",
        .rfc = "RFC6228",
        .section = "RFC 6228",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NONE,
        .headers = "Supported: 199",
        .summary = "one early dialog (one forked branch) has ended",
        .meaning = "Tells the caller that a particular early dialog (identified by the To tag) "
                   "is over, before the INVITE's final response arrives. The caller can free "
                   "media resources tied to that branch.",
        .when = "Behind forking proxies: when one branch fails (for example one phone rejects "
                "the call) while other branches are still ringing. Only sent when the caller "
                "advertised Supported: 199.",
        .fix = "Nothing to fix. Drop the media and state of the early dialog whose To tag the "
               "199 carries; keep waiting for the other branches.",
    },
    {
        .code = 200,
        .phrase = "OK",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.2.1",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_NONE,
        .headers = "Contact, Expires, Allow, Supported",
        .summary = "the request succeeded",
        .meaning = "The request succeeded. What was achieved depends on the method: a call "
                   "answered, bindings stored, a subscription accepted, a message delivered.",
        .when = "As the final answer to any request that worked.",
        .fix = "Nothing to fix. Check the method-specific details below: an INVITE's 200 must "
               "be acknowledged, and a REGISTER's 200 tells you the expiry actually granted.",
        .notes = {{"INVITE", "The call is answered and the dialog confirmed. The caller must send "
                             "an ACK (a new transaction, end to end, along the Route set from "
                             "Record-Route); the callee retransmits the 200 until the ACK arrives. "
                             "The body holds the SDP answer."},
                  {"REGISTER", "The registrar stored the binding. The 200 lists every current "
                               "Contact for the address of record, each with its expires value, "
                               "which may be shorter than requested: refresh before it runs out."},
                  {"SUBSCRIBE",
                   "The subscription is accepted; the Expires header gives the "
                   "granted duration. An initial NOTIFY with the current state follows "
                   "at once (RFC 6665)."},
                  {"BYE/CANCEL", "200 to BYE ends the dialog. 200 to CANCEL only says the CANCEL "
                                 "was received; the INVITE itself then ends with 487."},
                  {"OPTIONS", "The peer is alive; Allow, Accept and Supported list its "
                              "capabilities. Often used as a keep-alive ping."}},
    },
    {
        .code = 202,
        .phrase = "Accepted (Deprecated)",
        .wire_phrase = "Accepted",
        .rfc = "RFC6665",
        .section = "RFC 6665 (deprecation); first defined by RFC 3265",
        .related = "RFC 3515 (REFER), RFC 3428 (MESSAGE)",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NONE,
        .summary = "accepted for processing, outcome not known yet",
        .meaning = "The request was accepted, but the work it asks for has not been completed "
                   "(or authorized) yet. RFC 6665 deprecated it for SUBSCRIBE; receivers must "
                   "treat it exactly like 200.",
        .when = "In answer to REFER (the transfer is being attempted; progress follows in "
                "NOTIFYs with a sipfrag body), from older presence servers answering "
                "SUBSCRIBE, and from store-and-forward servers answering MESSAGE.",
        .fix = "Nothing to fix. Treat it as success and watch for the later outcome (NOTIFY "
               "for REFER/SUBSCRIBE). New notifiers should answer SUBSCRIBE with 200.",
        .notes = {{"REFER", "The referee will try the Refer-To target and report the result "
                            "through NOTIFYs of the implicit refer subscription."},
                  {"SUBSCRIBE", "Formerly meant 'accepted, authorization pending'; since RFC "
                                "6665 use 200 and signal pending state in Subscription-State."},
                  {"MESSAGE", "The message was accepted by a relay or store, not necessarily "
                              "shown to the user yet (RFC 3428)."}},
    },
    {
        .code = 204,
        .phrase = "No Notification",
        .rfc = "RFC5839",
        .section = "RFC 5839",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_NONE,
        .headers = "Suspend-If-Match, SIP-ETag, Expires",
        .summary = "subscription refreshed; state unchanged, so no NOTIFY",
        .meaning = "A successful SUBSCRIBE for which the notifier will not send a NOTIFY, "
                   "because the subscriber already holds the current state (its entity tag "
                   "matched).",
        .when = "With conditional event notification (RFC 5839): the subscriber put the entity "
                "tag of its last NOTIFY in Suspend-If-Match and nothing had changed.",
        .fix = "Nothing to fix. Keep the state you have; the subscription is refreshed for the "
               "duration in Expires.",
        .notes = {{"SUBSCRIBE", "Only SUBSCRIBE uses it; a 200 would instead be followed by "
                                "a full NOTIFY."}},
    },
    {
        .code = 300,
        .phrase = "Multiple Choices",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.3.1",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_REDIRECT,
        .headers = "Contact",
        .summary = "several addresses are possible; choose from Contact",
        .meaning = "The target can be reached at several addresses, listed in Contact "
                   "(optionally with q-values). The client or the user picks one or tries them "
                   "in turn.",
        .when = "From redirect servers and location services that return every registered "
                "device instead of forking.",
        .fix = "Retry the request to the Contact URIs, highest q first. If your client does "
               "not follow redirects, configure it to, or have the server proxy instead.",
    },
    {
        .code = 301,
        .phrase = "Moved Permanently",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.3.2",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_REDIRECT,
        .headers = "Contact",
        .summary = "the user has moved for good; use the address in Contact",
        .meaning = "The address in the Request-URI is no longer valid; the user can be found at "
                   "the address in Contact from now on.",
        .when = "After a user or number has moved to a new domain or provider.",
        .fix = "Retry at the Contact address and update address books, speed dials or "
               "configuration so future requests go there directly.",
    },
    {
        .code = 302,
        .phrase = "Moved Temporarily",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.3.3",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_REDIRECT,
        .headers = "Contact, Expires",
        .summary = "try the address in Contact for this request",
        .meaning = "The user is temporarily at another address, given in Contact. The new "
                   "address may be remembered for the time in Expires (or the contact's expires "
                   "parameter), not longer.",
        .when = "From phones or servers doing call forwarding by redirect, and from redirect "
                "servers and SBCs used for routing decisions (common with least-cost routing).",
        .fix = "Send a new request (new transaction, same Call-ID is allowed) to the Contact "
               "URI. Do not update stored addresses permanently.",
    },
    {
        .code = 305,
        .phrase = "Use Proxy",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.3.4",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_REDIRECT,
        .headers = "Contact",
        .summary = "the target must be reached through the proxy in Contact",
        .meaning = "The resource may only be reached through the proxy given in Contact; the "
                   "client should resend through that proxy.",
        .when = "Rarely; only user agents should send it. Because it lets a response steer "
                "traffic through an arbitrary proxy, many clients refuse to follow it.",
        .fix = "If you trust the sender, resend the request with the Contact URI as outbound "
               "proxy (a Route header). Otherwise configure the right proxy by hand.",
    },
    {
        .code = 380,
        .phrase = "Alternative Service",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.3.5",
        .related = "RFC 5031 and 3GPP TS 24.229 (emergency calls)",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_REDIRECT,
        .headers = "Content-Type",
        .summary = "the call failed, but an alternative service is offered",
        .meaning = "The call did not succeed as requested, but an alternative service is "
                   "possible; the body describes it.",
        .when = "Mostly in IMS networks: a call recognized as an emergency call is answered "
                "with 380 and an XML body asking the phone to retry it as an emergency call.",
        .fix = "Read the body and follow it; for emergency calls, place the call again using "
               "the emergency procedures (emergency registration, service URN).",
    },
};

const size_t sk__codes_1xx_3xx_count = sizeof(sk__codes_1xx_3xx) / sizeof(sk__codes_1xx_3xx[0]);
