/*
 * Response-code catalog: the six classes, lookup over the per-range tables
 * (codes_*.c), default reason phrases and one-line summaries.
 *
 * RFC 3261 §7.2 fixes the shape of a status code (three digits, first digit
 * 1..6) and §8.1.3.2 says a code a UA does not know is handled like the x00
 * code of its class; that is why unregistered codes in 100..699 are still
 * explained here, by class. The registry itself is IANA's "Response Codes"
 * table of the SIP Parameters registry.
 *
 * Memory: static read-only tables only; sk_code_format_line() writes into
 * the caller's buffer.
 */
#include "codes/table.h"

#include <string.h>

static const struct sk_code_class classes[6] = {
    {1, "1xx", "Provisional", "Provisional",
     "provisional: the request is being worked on, a final answer follows",
     "A provisional response says the request arrived and is being worked on; it is never the "
     "end of the transaction, a final response (2xx..6xx) always follows.",
     "While an INVITE is ringing or being routed (100, 180, 183), rarely for other methods.",
     "Nothing to fix. Keep waiting for the final response; if none comes, the transaction times "
     "out (Timer B/F) and the client reports 408."},
    {2, "2xx", "Success", "Success", "success: the request was accepted",
     "The request succeeded; what success means depends on the method (a call answered, a "
     "binding stored, a subscription accepted).",
     "As the final answer to any request that worked.",
     "Nothing to fix. For INVITE remember the ACK: a 2xx to INVITE must be acknowledged "
     "end to end."},
    {3, "3xx", "Redirection", "Redirection", "redirection: try the address(es) given in Contact",
     "The target is reachable somewhere else: the response lists one or more new addresses in "
     "Contact and the client may send the request there.",
     "From redirect servers, from phones with call forwarding configured as a redirect, and from "
     "proxies that look up a user without forwarding the request.",
     "Retry the request to the Contact URI(s), in q-value order, within the same overall "
     "attempt; or give up if redirects are not wanted."},
    {4, "4xx", "Client Failure", "Client Failure",
     "request failure: this server will not handle the request as sent",
     "The request failed at this server or user agent, and sending it again unchanged will fail "
     "again; other servers (other forking branches) may still succeed. A UA that does not know "
     "the code treats it as 400.",
     "For bad syntax, missing credentials, unknown users, refused calls at one device, missing "
     "extensions, and similar problems tied to the request or the target.",
     "Read the reason phrase and any Warning header, change the request (credentials, headers, "
     "body, target) and resend only if the change addresses the problem."},
    {5, "5xx", "Server Failure", "Server Failure",
     "server failure: the server could not handle a valid request",
     "The request may well be valid, but the server failed to process it: an internal error, "
     "overload, a downstream failure or a missing feature. A UA that does not know the code "
     "treats it as 500.",
     "During outages, overload, maintenance, gateway failures, or when the server lacks a "
     "feature the request needs.",
     "Try another server for the domain (RFC 3263 ordering) or retry later, honouring "
     "Retry-After; check the server's logs if it is yours."},
    {6, "6xx", "Global Failure", "Global Failure",
     "global failure: no server anywhere will accept this request",
     "A definitive answer about the user: the request fails everywhere, not only at this "
     "device. A forking proxy stops trying other branches when one answers 6xx. A UA that does "
     "not know the code treats it as 600.",
     "When the called user declines, is busy on every device, does not exist at all, or the "
     "call is refused as unwanted.",
     "Do not retry the request elsewhere; respect the user's answer. Retry later only if a "
     "Retry-After header invites it."},
};

/* The catalog, in ascending code order, slice by slice. */
struct part {
    const struct sk_code_info *entries;
    const size_t *count;
};

static const struct part parts[] = {
    {sk__codes_1xx_3xx, &sk__codes_1xx_3xx_count},
    {sk__codes_4xx_request, &sk__codes_4xx_request_count},
    {sk__codes_4xx_ext, &sk__codes_4xx_ext_count},
    {sk__codes_4xx_call, &sk__codes_4xx_call_count},
    {sk__codes_5xx_6xx, &sk__codes_5xx_6xx_count},
};

#define NPARTS (sizeof(parts) / sizeof(parts[0]))

bool sk_code_valid(unsigned code)
{
    return code >= SK_CODE_MIN && code <= SK_CODE_MAX;
}

const struct sk_code_class *sk_code_class_of(unsigned code)
{
    if (!sk_code_valid(code))
        return NULL;
    return &classes[code / 100 - 1];
}

/* Binary search in one sorted slice. */
static const struct sk_code_info *search_part(const struct part *pt, unsigned code)
{
    size_t lo = 0, hi = *pt->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        unsigned c = pt->entries[mid].code;

        if (c == code)
            return &pt->entries[mid];
        if (c < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct sk_code_info *sk_code_lookup(unsigned code)
{
    if (!sk_code_valid(code))
        return NULL;
    for (size_t i = 0; i < NPARTS; i++) {
        size_t n = *parts[i].count;

        if (n == 0 || code > parts[i].entries[n - 1].code)
            continue;
        /* Slices are in ascending order, so the first slice whose last
         * code is >= code is the only one that can hold it. */
        return search_part(&parts[i], code);
    }
    return NULL;
}

const char *sk_code_phrase(unsigned code)
{
    const struct sk_code_info *e = sk_code_lookup(code);
    const struct sk_code_class *c;

    if (e != NULL)
        return e->wire_phrase != NULL ? e->wire_phrase : e->phrase;
    c = sk_code_class_of(code);
    return c != NULL ? c->phrase : "Unknown";
}

const char *sk_code_summary(unsigned code)
{
    const struct sk_code_info *e = sk_code_lookup(code);
    const struct sk_code_class *c;

    if (e != NULL)
        return e->summary;
    c = sk_code_class_of(code);
    return c != NULL ? c->summary : "not a SIP response code (valid codes are 100..699)";
}

int sk_code_format_line(struct sk_buf *out, unsigned code)
{
    sk_buf_printf(out, "%u %s: %s", code, sk_code_phrase(code), sk_code_summary(code));
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

size_t sk_code_count(void)
{
    size_t n = 0;

    for (size_t i = 0; i < NPARTS; i++)
        n += *parts[i].count;
    return n;
}

const struct sk_code_info *sk_code_at(size_t i)
{
    for (size_t p = 0; p < NPARTS; p++) {
        if (i < *parts[p].count)
            return &parts[p].entries[i];
        i -= *parts[p].count;
    }
    return NULL;
}

const char *sk_code_retry_name(enum sk_code_retry r)
{
    switch (r) {
    case SK_CODE_RETRY_NONE:
        return "none";
    case SK_CODE_RETRY_FIX:
        return "fix-and-resend";
    case SK_CODE_RETRY_REDIRECT:
        return "redirect";
    case SK_CODE_RETRY_LATER:
        return "retry-later";
    case SK_CODE_RETRY_NEVER:
        return "do-not-retry";
    }
    return "unknown";
}

const char *sk_code_retry_text(enum sk_code_retry r)
{
    switch (r) {
    case SK_CODE_RETRY_NONE:
        return "not a failure: nothing to retry";
    case SK_CODE_RETRY_FIX:
        return "resend at once after changing the request as the response asks";
    case SK_CODE_RETRY_REDIRECT:
        return "send the request again to the target the response names";
    case SK_CODE_RETRY_LATER:
        return "the same request may succeed later (honour Retry-After)";
    case SK_CODE_RETRY_NEVER:
        return "do not resend as is: the condition will not clear by itself";
    }
    return "unknown";
}

const char *sk_code_origin_name(unsigned bit)
{
    switch (bit) {
    case SK_CODE_BY_UAS:
        return "UAS";
    case SK_CODE_BY_PROXY:
        return "proxy";
    case SK_CODE_BY_REGISTRAR:
        return "registrar";
    case SK_CODE_BY_LOCAL:
        return "local stack";
    default:
        return NULL;
    }
}
