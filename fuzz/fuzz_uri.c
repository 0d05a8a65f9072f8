/*
 * libFuzzer target for the value parsers: the input bytes go to the URI,
 * name-addr, Contact, Via, Event, Subscription-State and Content-Type
 * parsers. Beyond "no crash, no out-of-bounds read", it checks that every
 * parsed URI equals itself (RFC 3261 §19.1.4 is reflexive), that every
 * slice a parser returns lies inside the input, and that parsing never
 * allocates.
 */
#include <sipkit/msg.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lo, *hi;

static void inside(struct sk_slice s)
{
    if (s.len > 0 && (s.p < lo || s.p + s.len > hi))
        abort();
}

static void check_uri(const struct sk_uri *u)
{
    char buf[64];

    inside(u->raw);
    inside(u->scheme_name);
    inside(u->user);
    inside(u->password);
    inside(u->host);
    inside(u->params);
    inside(u->headers);
    inside(u->opaque);
    if (!sk_uri_equal(u, u))
        abort();
    int n = sk_uri_unescape(u->user, buf, sizeof(buf));
    if (n != SK_ETOOBIG && (n < 0 || (size_t)n > u->user.len))
        abort();
    struct sk_slice v;
    if (sk_uri_param(u, "transport", &v))
        inside(v);
}

static void check_nameaddr(const struct sk_nameaddr *na)
{
    inside(na->raw);
    inside(na->display);
    inside(na->params);
    inside(na->tag);
    check_uri(&na->uri);
}

static void *no_malloc(size_t n)
{
    (void)n;
    abort();
}

static void *no_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    abort();
}

static void no_free(void *p)
{
    (void)p;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so reads past the end are caught by ASan. */
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    lo = copy;
    hi = copy + size;
    struct sk_slice s = sk_slice_make(copy, size);

    sk_set_allocator(no_malloc, no_realloc, no_free);
    struct sk_uri u;
    if (sk_uri_parse(s, &u) == 0)
        check_uri(&u);
    struct sk_nameaddr na;
    if (sk_nameaddr_parse(s, &na) == 0)
        check_nameaddr(&na);
    struct sk_contact c;
    if (sk_contact_parse(s, &c) == 0 && !c.star) {
        check_nameaddr(&c.addr);
        if (c.q < -1 || c.q > 1000 || c.expires < -1 || c.expires > 4294967295LL)
            abort();
    }
    struct sk_via v;
    if (sk_via_parse(s, &v) == 0) {
        inside(v.protocol);
        inside(v.transport);
        inside(v.host);
        inside(v.params);
        inside(v.branch);
        inside(v.received);
        inside(v.maddr);
        if (v.ttl < -1 || v.ttl > 255)
            abort();
    }
    struct sk_event e;
    if (sk_event_parse(s, &e) == 0) {
        inside(e.package);
        inside(e.id);
        inside(e.params);
    }
    struct sk_substate st;
    if (sk_substate_parse(s, &st) == 0) {
        inside(st.state);
        inside(st.reason);
        inside(st.params);
    }
    struct sk_ctype ct;
    if (sk_ctype_parse(s, &ct) == 0) {
        inside(ct.type);
        inside(ct.subtype);
        inside(ct.params);
    }
    struct sk_slice cur = s;
    struct sk_param p;
    for (int k = 0; k < 64 && sk_param_next(&cur, &p) == 1; k++) {
        inside(p.name);
        inside(p.value);
    }
    sk_set_allocator(NULL, NULL, NULL);
    free(copy);
    return 0;
}
