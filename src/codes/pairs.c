/*
 * Hand-written guidance for pairs of codes that are often confused: what
 * tells them apart and when a server should send which. `sipkit explain A B`
 * prints it after the differences it derives from the two entries.
 *
 * Memory: static read-only data.
 */
#include <sipkit/codes.h>

struct pair {
    unsigned a, b; /* a < b */
    const char *text;
};

static const struct pair pairs[] = {
    {200, 202,
     "200 means the request's effect is done (call answered, binding stored); 202 means it was "
     "accepted and the outcome comes later. REFER is answered with 202 and the transfer result "
     "arrives in NOTIFY. For SUBSCRIBE, RFC 6665 deprecated 202: notifiers send 200 and clients "
     "must treat a 202 exactly like 200."},
    {301, 302,
     "Both point to a new address in Contact. 301 is for good: update address books and "
     "configuration. 302 is for now: retry there, but keep using the original address next "
     "time (remember the new one at most for its Expires). Use 302 for forwarding and routing "
     "decisions, 301 only when the old address is retired."},
    {401, 403,
     "401 asks for credentials (WWW-Authenticate) and invites a retry with Authorization. 403 "
     "refuses regardless of credentials: the user is known but not allowed, or the source is "
     "blocked. A server should answer wrong credentials with a new 401 challenge and use 403 "
     "when policy forbids; clients that get 403 right after answering a 401 should check the "
     "password and the user's permissions."},
    {401, 407,
     "Same digest mechanism, different challenger. 401 comes from the UAS or registrar "
     "(WWW-Authenticate -> Authorization); 407 comes from a proxy on the path "
     "(Proxy-Authenticate -> Proxy-Authorization). Registrars use 401 for REGISTER; proxies "
     "use 407 for INVITE, MESSAGE, SUBSCRIBE. Both can appear in one response when several "
     "elements challenge; answer each, keyed by realm."},
    {403, 404,
     "404 says the user does not exist in that domain; 403 says the request is refused by "
     "policy. Servers that do not want to reveal which users exist sometimes answer 403 (or "
     "404) to everything unauthorized; for debugging, the server's log is the reliable "
     "source."},
    {404, 480,
     "404: no such user here, retrying will not help. 480: the user exists but cannot be "
     "reached now (not registered, do-not-disturb), try later. A registrar-backed proxy "
     "should answer 480 for a known user without current bindings and 404 only for unknown "
     "users."},
    {404, 604,
     "404 is this server's view: the user is not known here, another server might know them. "
     "604 is authoritative and global: the user exists nowhere, and forking stops."},
    {405, 501,
     "405: the method is known but not allowed for this Request-URI (the Allow header lists "
     "what is). 501: the method is not implemented at all by this element. Send 405 with "
     "Allow when you understand the method; 501 when you do not recognize it."},
    {408, 480,
     "408: no final answer came in time (the device may be registered but unreachable, or "
     "rang out). 480: the server knows right away the user cannot be reached. Persistent 408s "
     "to a registered user usually mean a NAT or firewall problem on the path to the device."},
    {408, 504,
     "408 is about the user or the request's own time limit: no final response before Expires "
     "or the proxy's Timer C (or, locally, no response at all). 504 is about infrastructure: "
     "the server waited for another server it depends on (DNS, database, location service) "
     "and got no answer."},
    {415, 488,
     "415 rejects the body's format: wrong Content-Type, encoding or language (see Accept). "
     "488 accepts the format (it is SDP) but rejects the session it describes: codecs, media, "
     "transport or crypto. Fix 415 by changing the body type; fix 488 by changing the offer."},
    {480, 486,
     "480: the user cannot be reached at all right now (offline, not registered, "
     "do-not-disturb). 486: the device was reached and is busy. Both may carry Retry-After "
     "and both let a forking proxy try other branches or voicemail."},
    {481, 487,
     "481: the request refers to a dialog or transaction the receiver does not know (stale "
     "BYE, late CANCEL, lost state). 487: the INVITE was known and has been cancelled, the "
     "normal result of CANCEL. After a CANCEL you expect 200 for the CANCEL and 487 for the "
     "INVITE; a 481 to the CANCEL usually means the INVITE was already answered."},
    {486, 600,
     "486 Busy Here: this device is busy; a forking proxy keeps trying other devices or "
     "voicemail. 600 Busy Everywhere: the user is busy on every device and no other "
     "destination will answer; all forked branches stop. Devices should normally send 486 and "
     "leave the global decision to the network."},
    {486, 603,
     "486: busy (automatic, or the user pressed 'busy'); other devices may still answer. 603: "
     "the user declines the call and it stops on every device. Send 603 for an explicit "
     "reject that should end the whole call attempt."},
    {488, 606,
     "Both reject the SDP offer. 488 is for this device only, other branches may accept it; "
     "606 says no device of the user will accept this session, and forking stops."},
    {500, 503,
     "500: an unexpected error while handling this request. 503: the server is deliberately "
     "not taking requests now (overload, maintenance, no trunk) and the client should use "
     "another server or come back after Retry-After. Send 503 for load shedding and planned "
     "downtime, 500 for failures; a proxy should turn a downstream 503 into 500 upstream."},
    {603, 607,
     "603: the user declined this call. 607: the user declined it and marked it as unwanted "
     "(spam); networks may feed that to call analytics."},
    {607, 608,
     "607: the called user marked the call unwanted. 608: an intermediary (call-analytics "
     "service) rejected it before the user saw it; a Call-Info jwscard may say whom to "
     "contact for redress."},
};

const char *sk_code_pair_note(unsigned a, unsigned b)
{
    unsigned lo = a < b ? a : b, hi = a < b ? b : a;

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (pairs[i].a == lo && pairs[i].b == hi)
            return pairs[i].text;
    }
    return NULL;
}
