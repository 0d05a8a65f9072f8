/*
 * sipkit parse [--json] FILE...: parse raw SIP messages (one per file,
 * "-" for stdin) and report what they contain, or why they are invalid.
 * Exit 0 when every file is valid, 1 when any is not, 2 on usage errors.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

/* ---- JSON output ------------------------------------------------------ */

static void json_key(struct sk_buf *b, const char *key)
{
    if (b->len > 0 && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        sk_buf_append(b, ",", 1);
    sk_buf_append_json(b, sk_slice_cstr(key));
    sk_buf_append(b, ":", 1);
}

static void json_str(struct sk_buf *b, const char *key, struct sk_slice v)
{
    json_key(b, key);
    sk_buf_append_json(b, v);
}

static void json_num(struct sk_buf *b, const char *key, int64_t v)
{
    json_key(b, key);
    sk_buf_printf(b, "%lld", (long long)v);
}

static void json_bool(struct sk_buf *b, const char *key, bool v)
{
    json_key(b, key);
    sk_buf_append_cstr(b, v ? "true" : "false");
}

static void json_params(struct sk_buf *b, const char *key, struct sk_slice list)
{
    struct sk_slice cur = list;
    struct sk_param prm;

    json_key(b, key);
    sk_buf_append(b, "[", 1);
    while (sk_param_next(&cur, &prm) == 1) {
        if (b->p[b->len - 1] != '[')
            sk_buf_append(b, ",", 1);
        sk_buf_append(b, "{", 1);
        json_str(b, "name", prm.name);
        json_str(b, "value", prm.value);
        sk_buf_append(b, "}", 1);
    }
    sk_buf_append(b, "]", 1);
}

static const char *scheme_name(enum sk_uri_scheme s)
{
    switch (s) {
    case SK_URI_SIP:
        return "sip";
    case SK_URI_SIPS:
        return "sips";
    case SK_URI_TEL:
        return "tel";
    default:
        return "other";
    }
}

static void json_uri(struct sk_buf *b, const char *key, const struct sk_uri *u)
{
    json_key(b, key);
    sk_buf_append(b, "{", 1);
    json_str(b, "raw", u->raw);
    json_str(b, "scheme", sk_slice_cstr(scheme_name(u->scheme)));
    if (u->scheme == SK_URI_OTHER) {
        json_str(b, "opaque", u->opaque);
    } else {
        json_str(b, "user", u->user);
        if (u->password.len)
            json_str(b, "password", u->password);
        json_str(b, "host", u->host);
        if (u->has_port)
            json_num(b, "port", u->port);
        json_params(b, "params", u->params);
        if (u->headers.len)
            json_str(b, "headers", u->headers);
    }
    sk_buf_append(b, "}", 1);
}

static void json_nameaddr_fields(struct sk_buf *b, const struct sk_nameaddr *na)
{
    if (na->display.len)
        json_str(b, "display", na->display);
    json_uri(b, "uri", &na->uri);
    if (na->tag.len)
        json_str(b, "tag", na->tag);
    json_params(b, "params", na->params);
}

static void json_via(struct sk_buf *b, struct sk_slice v)
{
    struct sk_via via;

    if (sk_via_parse(v, &via) != 0) {
        json_bool(b, "valid", false);
        return;
    }
    json_str(b, "protocol", via.protocol);
    json_str(b, "transport", via.transport);
    json_str(b, "host", via.host);
    if (via.has_port)
        json_num(b, "port", via.port);
    if (via.branch.len)
        json_str(b, "branch", via.branch);
    if (via.received.len)
        json_str(b, "received", via.received);
    if (via.has_rport) {
        json_key(b, "rport");
        if (via.rport)
            sk_buf_printf(b, "%u", via.rport);
        else
            sk_buf_append_cstr(b, "true");
    }
    if (via.maddr.len)
        json_str(b, "maddr", via.maddr);
    if (via.ttl >= 0)
        json_num(b, "ttl", via.ttl);
    json_params(b, "params", via.params);
}

static void json_contact(struct sk_buf *b, struct sk_slice v)
{
    struct sk_contact c;

    if (sk_contact_parse(v, &c) != 0) {
        json_bool(b, "valid", false);
        return;
    }
    if (c.star) {
        json_bool(b, "star", true);
        return;
    }
    json_nameaddr_fields(b, &c.addr);
    if (c.expires >= 0)
        json_num(b, "expires", c.expires);
    if (c.q >= 0)
        json_num(b, "q_thousandths", c.q);
}

static void json_digest(struct sk_buf *b, struct sk_slice v)
{
    static const char *const names[SK_DIG__COUNT] = {
        "username", "realm", "nonce", "uri",   "response", "algorithm", "cnonce",
        "opaque",   "qop",   "nc",    "stale", "domain",   "userhash",  "charset",
    };
    struct sk_digest_hdr d;

    if (sk_digest_hdr_parse(v, &d) != 0) {
        json_bool(b, "valid", false);
        return;
    }
    json_str(b, "scheme", d.scheme);
    for (int i = 0; i < SK_DIG__COUNT; i++) {
        if (d.present & (1u << i))
            json_str(b, names[i], d.f[i]);
    }
}

/* One value of a header, with the typed fields sipkit knows for it. */
static void json_value(struct sk_buf *b, enum sk_hdr_id id, struct sk_slice v)
{
    union {
        struct sk_nameaddr na;
        struct sk_cseq cs;
        struct sk_event ev;
        struct sk_substate ss;
        struct sk_ctype ct;
    } u;
    uint64_t n;

    sk_buf_append(b, "{", 1);
    json_str(b, "value", v);
    switch (id) {
    case SK_HDR_VIA:
        json_via(b, v);
        break;
    case SK_HDR_CONTACT:
        json_contact(b, v);
        break;
    case SK_HDR_FROM:
    case SK_HDR_TO:
    case SK_HDR_ROUTE:
    case SK_HDR_RECORD_ROUTE:
    case SK_HDR_PATH:
    case SK_HDR_REPLY_TO:
        if (sk_nameaddr_parse(v, &u.na) == 0)
            json_nameaddr_fields(b, &u.na);
        else
            json_bool(b, "valid", false);
        break;
    case SK_HDR_CSEQ:
        if (sk_cseq_parse(v, &u.cs) == 0) {
            json_num(b, "seq", u.cs.num);
            json_str(b, "method", u.cs.method);
        }
        break;
    case SK_HDR_CONTENT_LENGTH:
    case SK_HDR_MAX_FORWARDS:
    case SK_HDR_EXPIRES:
    case SK_HDR_MIN_EXPIRES:
        if (sk_slice_to_u64(v, UINT32_MAX, &n) == 0)
            json_num(b, "number", (int64_t)n);
        else
            json_bool(b, "valid", false);
        break;
    case SK_HDR_AUTHORIZATION:
    case SK_HDR_PROXY_AUTHORIZATION:
    case SK_HDR_WWW_AUTHENTICATE:
    case SK_HDR_PROXY_AUTHENTICATE:
        json_digest(b, v);
        break;
    case SK_HDR_EVENT:
        if (sk_event_parse(v, &u.ev) == 0) {
            json_str(b, "package", u.ev.package);
            if (u.ev.id.len)
                json_str(b, "id", u.ev.id);
        }
        break;
    case SK_HDR_SUBSCRIPTION_STATE:
        if (sk_substate_parse(v, &u.ss) == 0) {
            json_str(b, "state", u.ss.state);
            if (u.ss.expires >= 0)
                json_num(b, "expires", u.ss.expires);
            if (u.ss.reason.len)
                json_str(b, "reason", u.ss.reason);
        }
        break;
    case SK_HDR_CONTENT_TYPE:
        if (sk_ctype_parse(v, &u.ct) == 0) {
            json_str(b, "type", u.ct.type);
            json_str(b, "subtype", u.ct.subtype);
        }
        break;
    default:
        break;
    }
    sk_buf_append(b, "}", 1);
}

/* Headers whose values are comma-separated lists (RFC 3261 §7.3.1). */
static bool is_list(enum sk_hdr_id id)
{
    switch (id) {
    case SK_HDR_VIA:
    case SK_HDR_CONTACT:
    case SK_HDR_ROUTE:
    case SK_HDR_RECORD_ROUTE:
    case SK_HDR_PATH:
    case SK_HDR_ALLOW:
    case SK_HDR_ALLOW_EVENTS:
    case SK_HDR_SUPPORTED:
    case SK_HDR_REQUIRE:
    case SK_HDR_PROXY_REQUIRE:
    case SK_HDR_UNSUPPORTED:
        return true;
    default:
        return false;
    }
}

static void json_header(struct sk_buf *b, const struct sk_hdr *h)
{
    struct sk_slice cur = h->value, v;

    sk_buf_append(b, "{", 1);
    json_str(b, "name", h->name);
    if (h->id != SK_HDR_OTHER)
        json_str(b, "canonical", sk_slice_cstr(sk_hdr_name(h->id)));
    json_str(b, "raw", h->value);
    json_key(b, "values");
    sk_buf_append(b, "[", 1);
    if (is_list(h->id)) {
        bool first = true;
        while (sk_list_next(&cur, &v) == 1) {
            if (!first)
                sk_buf_append(b, ",", 1);
            first = false;
            json_value(b, h->id, v);
        }
    } else {
        json_value(b, h->id, h->value);
    }
    sk_buf_append(b, "]}", 2);
}

static void json_message(struct sk_buf *b, const char *file, const struct sk_msg *m, int r)
{
    char why[128];

    sk_buf_append(b, "{", 1);
    json_str(b, "file", sk_slice_cstr(file));
    json_bool(b, "valid", r == 0);
    if (r != 0) {
        unsigned status = sk_msg_error(m, why, sizeof(why));
        json_str(b, "error", sk_slice_cstr(why));
        json_num(b, "status", status);
        sk_buf_append(b, "}", 1);
        return;
    }
    json_str(b, "type", sk_slice_cstr(m->is_request ? "request" : "response"));
    if (m->is_request) {
        json_str(b, "method", m->method);
        json_uri(b, "request_uri", &m->ruri);
    } else {
        json_num(b, "status", m->status);
        json_str(b, "reason", m->reason);
    }
    json_str(b, "version", m->version);
    json_key(b, "headers");
    sk_buf_append(b, "[", 1);
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (i > 0)
            sk_buf_append(b, ",", 1);
        json_header(b, &m->hdrs[i]);
    }
    sk_buf_append(b, "]", 1);
    json_num(b, "body_length", (int64_t)m->body.len);
    json_str(b, "body", m->body);
    sk_buf_append(b, "}", 1);
}

/* ---- text output ------------------------------------------------------ */

static void text_summary(const struct sk_msg *m)
{
    static const enum sk_hdr_id key[] = {SK_HDR_VIA,           SK_HDR_FROM,    SK_HDR_TO,
                                         SK_HDR_CALL_ID,       SK_HDR_CSEQ,    SK_HDR_MAX_FORWARDS,
                                         SK_HDR_CONTACT,       SK_HDR_EXPIRES, SK_HDR_CONTENT_TYPE,
                                         SK_HDR_CONTENT_LENGTH};

    if (m->is_request)
        printf("valid: request %.*s %.*s\n", (int)m->method.len, m->method.p, (int)m->ruri_raw.len,
               m->ruri_raw.p);
    else
        printf("valid: response %u %.*s\n", m->status, (int)m->reason.len, m->reason.p);
    for (size_t k = 0; k < sizeof(key) / sizeof(key[0]); k++) {
        for (size_t i = 0; i < m->nhdrs; i++) {
            const struct sk_hdr *h = &m->hdrs[i];
            if (h->id == key[k])
                printf("  %s: %.*s\n", sk_hdr_name(h->id), (int)h->value.len, h->value.p);
        }
    }
    printf("  headers: %zu, body: %zu bytes\n", m->nhdrs, m->body.len);
}

static void text_line(const char *file, const struct sk_msg *m, int r)
{
    char why[128];

    if (r != 0) {
        sk_msg_error(m, why, sizeof(why));
        printf("%s: invalid: %s\n", file, why);
    } else if (m->is_request) {
        printf("%s: valid: request %.*s %.*s\n", file, (int)m->method.len, m->method.p,
               (int)m->ruri_raw.len, m->ruri_raw.p);
    } else {
        printf("%s: valid: response %u %.*s\n", file, m->status, (int)m->reason.len, m->reason.p);
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit parse [--json] FILE...\n"
                 "Parses each FILE (\"-\" for standard input) as one raw SIP message.\n"
                 "Valid: exit 0 and a summary; invalid: exit 1 and \"invalid: <cause>\".\n"
                 "  --json   print the parsed structure as JSON (one object per file)\n");
}

/* Parse one file; returns 0 valid, 1 invalid, 2 unreadable. */
static int parse_one(const char *file, bool json, bool many, struct sk_msg *m, struct sk_buf *out)
{
    char *data = NULL;
    size_t len = 0;
    int r = sk_cli_read_file(file, &data, &len);

    if (r != 0) {
        sk_cli_error("parse", "cannot read %s: %s", file, sk_strerror(r));
        return 2;
    }
    r = sk_msg_parse(m, data, len, SK_MSG_DATAGRAM, NULL);
    if (r == 0)
        r = sk_msg_check(m);
    if (r == SK_ENOMEM) {
        free(data);
        sk_cli_error("parse", "out of memory");
        return 2;
    }
    if (json) {
        sk_buf_reset(out);
        json_message(out, file, m, r);
        printf("%s\n", sk_buf_ok(out) ? out->p : "{\"error\":\"out of memory\"}");
    } else if (many) {
        text_line(file, m, r);
    } else if (r != 0) {
        char why[128];
        sk_msg_error(m, why, sizeof(why));
        printf("invalid: %s\n", why);
    } else {
        text_summary(m);
    }
    free(data);
    return r == 0 ? 0 : 1;
}

int sk_cmd_parse(int argc, char **argv)
{
    bool json = false;
    int first = 1, worst = SK_EXIT_OK;
    struct sk_msg m;
    struct sk_buf out;

    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        if (strcmp(argv[first], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            sk_cli_error("parse", "unknown option '%s'", argv[first]);
            usage(stderr);
            return SK_EXIT_USAGE;
        }
    }
    if (first >= argc) {
        sk_cli_error("parse", "no FILE given");
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    sk_msg_init(&m);
    sk_buf_init(&out);
    for (int i = first; i < argc; i++) {
        int r = parse_one(argv[i], json, argc - first > 1, &m, &out);
        if (r > worst)
            worst = r;
    }
    sk_buf_free(&out);
    sk_msg_free(&m);
    return worst;
}
