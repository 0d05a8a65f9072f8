/* Field checks for parsed messages shared by the message tests: a case
 * names fields ("via.branch", "contact2.q", "hdr:Subject"...) and the text
 * each must have. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

#include "msgfields.h"

static int nth_via(const struct sk_msg *m, int n, struct sk_via *out)
{
    struct sk_hdr_iter it;
    int r = 0;

    sk_hdr_iter_init(&it, m, SK_HDR_VIA);
    for (int i = 0; i < n; i++) {
        r = sk_msg_via_next(&it, out);
        if (r != 1)
            return r;
    }
    return r;
}

static int nth_contact(const struct sk_msg *m, int n, struct sk_contact *out)
{
    struct sk_hdr_iter it;
    int r = 0;

    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    for (int i = 0; i < n; i++) {
        r = sk_msg_contact_next(&it, out);
        if (r != 1)
            return r;
    }
    return r;
}

static int count_values(const struct sk_msg *m, enum sk_hdr_id id)
{
    struct sk_hdr_iter it;
    struct sk_slice v;
    int n = 0;

    sk_hdr_iter_init(&it, m, id);
    while (sk_hdr_iter_next(&it, &v) == 1)
        n++;
    return n;
}

static struct sk_slice num(char *tmp, long long v)
{
    snprintf(tmp, 32, "%lld", v);
    return sk_slice_cstr(tmp);
}

static struct sk_slice via_field(const struct sk_via *v, const char *f, char *tmp)
{
    if (strcmp(f, "transport") == 0)
        return v->transport;
    if (strcmp(f, "host") == 0)
        return v->host;
    if (strcmp(f, "port") == 0)
        return num(tmp, v->port);
    if (strcmp(f, "branch") == 0)
        return v->branch;
    if (strcmp(f, "received") == 0)
        return v->received;
    if (strcmp(f, "rport") == 0)
        return num(tmp, v->rport);
    if (strcmp(f, "has_rport") == 0)
        return num(tmp, v->has_rport);
    return S("?unknown via field");
}

static struct sk_slice uri_field(const struct sk_uri *u, const char *f, char *tmp)
{
    static const char *const schemes[] = {"other", "sip", "sips", "tel"};

    if (strcmp(f, "user") == 0)
        return u->user;
    if (strcmp(f, "password") == 0)
        return u->password;
    if (strcmp(f, "host") == 0)
        return u->host;
    if (strcmp(f, "port") == 0)
        return num(tmp, u->port);
    if (strcmp(f, "params") == 0)
        return u->params;
    if (strcmp(f, "scheme") == 0)
        return S(schemes[u->scheme]);
    return S("?unknown uri field");
}

static struct sk_slice nameaddr_field(const struct sk_nameaddr *na, const char *f, char *tmp)
{
    if (strcmp(f, "tag") == 0)
        return na->tag;
    if (strcmp(f, "display") == 0)
        return na->display;
    if (strncmp(f, "uri.", 4) == 0)
        return uri_field(&na->uri, f + 4, tmp);
    return S("?unknown name-addr field");
}

static struct sk_slice contact_field(const struct sk_msg *m, int n, const char *f, char *tmp)
{
    struct sk_contact c;

    if (nth_contact(m, n, &c) != 1)
        return S("?no such contact");
    if (strcmp(f, "expires") == 0)
        return num(tmp, c.expires);
    if (strcmp(f, "q") == 0)
        return num(tmp, c.q);
    if (strcmp(f, "star") == 0)
        return num(tmp, c.star);
    if (strcmp(f, "host") == 0)
        return c.addr.uri.host;
    return nameaddr_field(&c.addr, f, tmp);
}

/* The value of one named field of a parsed message, as text. */
static struct sk_slice field(const struct sk_msg *m, const char *key, char *tmp)
{
    const struct sk_hdr *h;
    struct sk_via v;
    uint64_t u;

    if (strcmp(key, "method") == 0)
        return m->method;
    if (strcmp(key, "method_id") == 0)
        return num(tmp, m->method_id);
    if (strncmp(key, "ruri.", 5) == 0)
        return uri_field(&m->ruri, key + 5, tmp);
    if (strcmp(key, "status") == 0)
        return num(tmp, m->status);
    if (strcmp(key, "reason") == 0)
        return m->reason;
    if (strcmp(key, "is_request") == 0)
        return num(tmp, m->is_request);
    if (strcmp(key, "respondable") == 0)
        return num(tmp, m->respondable);
    if (strncmp(key, "via.", 4) == 0)
        return via_field(&m->via, key + 4, tmp);
    if (strncmp(key, "via2.", 5) == 0)
        return nth_via(m, 2, &v) == 1 ? via_field(&v, key + 5, tmp) : S("?no second via");
    if (strcmp(key, "vias") == 0)
        return num(tmp, count_values(m, SK_HDR_VIA));
    if (strcmp(key, "contacts") == 0)
        return num(tmp, count_values(m, SK_HDR_CONTACT));
    if (strncmp(key, "contact", 7) == 0 && key[7] >= '1' && key[7] <= '9' && key[8] == '.')
        return contact_field(m, key[7] - '0', key + 9, tmp);
    if (strncmp(key, "from.", 5) == 0)
        return nameaddr_field(&m->from, key + 5, tmp);
    if (strncmp(key, "to.", 3) == 0)
        return nameaddr_field(&m->to, key + 3, tmp);
    if (strcmp(key, "call_id") == 0)
        return m->call_id;
    if (strcmp(key, "cseq.num") == 0)
        return num(tmp, m->cseq.num);
    if (strcmp(key, "cseq.method") == 0)
        return m->cseq.method;
    if (strcmp(key, "max_forwards") == 0)
        return num(tmp, m->max_forwards);
    if (strcmp(key, "content_length") == 0)
        return num(tmp, m->content_length);
    if (strcmp(key, "expires") == 0)
        return sk_msg_get_uint(m, SK_HDR_EXPIRES, UINT32_MAX, &u) == 1 ? num(tmp, (long long)u)
                                                                       : S("?no expires");
    if (strcmp(key, "body") == 0)
        return m->body;
    if (strcmp(key, "trailing") == 0)
        return m->trailing;
    if (strcmp(key, "nhdrs") == 0)
        return num(tmp, (long long)m->nhdrs);
    if (strncmp(key, "hdr:", 4) == 0) {
        h = sk_msg_find_name(m, S(key + 4));
        return h ? h->value : S("?absent");
    }
    return S("?unknown key");
}

void sk_test_check_fields(const char *name, const struct sk_msg *m, const char *spec)
{
    char *checks = strdup(spec), *save = NULL;

    for (char *item = strtok_r(checks, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
        char tmp[32];
        char *eq = strchr(item, '=');
        assert_non_null(eq);
        *eq = '\0';
        struct sk_slice got = field(m, item, tmp);
        if (!sk_slice_eq(got, S(eq + 1))) {
            print_error("case '%s': %s is \"%.*s\", expected \"%s\"\n", name, item, (int)got.len,
                        got.p ? got.p : "", eq + 1);
            free(checks);
            fail();
        }
    }
    free(checks);
}
