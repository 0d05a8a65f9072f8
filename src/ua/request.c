/*
 * Client requests with automatic digest authentication.
 *
 * RFC 3261 §8.1.1 (the headers every request carries), §22.2 and §22.3
 * (a 401 / 407 is answered by resending the request with credentials; the
 * new request has the same Call-ID, From and To, a CSeq one higher and a
 * new branch), RFC 7616 §3.3 (stale=true: the credentials were right, the
 * nonce old; retry once more without asking), §9.1 (CANCEL only after a
 * provisional response), §17.1.1.3 (the transaction layer ACKs non-2xx
 * finals itself).
 *
 * Each request has its own digest client: "a second 401" is judged per
 * request, so a REGISTER refresh that meets a fresh challenge is answered
 * again rather than taken for a refused password.
 *
 * Memory: struct sk_ua_req owns copies of its options' strings, the last
 * request it sent and its final response (bytes and parsed view); it holds
 * a reference to its current transaction.
 */
#include "ua/ua_int.h"

#include <string.h>

#define MAX_CHALLENGES 8

const char *sk_ua_outcome_name(enum sk_ua_outcome o)
{
    switch (o) {
    case SK_UA_PENDING:
        return "pending";
    case SK_UA_FINAL:
        return "final";
    case SK_UA_TIMEOUT:
        return "timeout";
    case SK_UA_NETWORK:
        return "network_error";
    case SK_UA_AUTH_REFUSED:
        return "credentials_refused";
    case SK_UA_AUTH_MISSING:
        return "credentials_missing";
    case SK_UA_AUTH_UNUSABLE:
        return "challenge_unusable";
    }
    return "unknown";
}

/* Write the request with a fresh branch into r->sent_buf and parse it. */
static int build(struct sk_ua_req *r, const char *branch)
{
    struct sk_ua *ua = r->ua;
    struct sk_buf *out = &r->sent_buf;
    const char *ruri = r->dialog != NULL ? r->dialog->remote_target : r->ruri;
    struct sk_slice body = sk_slice_cstr(r->body != NULL ? r->body : "");

    sk_buf_reset(out);
    sk_msg_start_request(out, sk_slice_cstr(r->o.method), sk_slice_cstr(ruri));
    sk__ua_via(ua, out, branch);
    sk_msg_add_header(out, "Max-Forwards", SK_SLICE_LIT("70"));
    if (r->dialog != NULL) {
        sk__dialog_headers(r->dialog, out, r->o.method, r->cseq);
    } else {
        sk_msg_add_headerf(out, "From", "%s;tag=%s", ua->from, r->from_tag);
        sk_msg_add_headerf(out, "To", "<%s>", r->to);
        sk_msg_add_header(out, "Call-ID", sk_slice_cstr(r->call_id));
        sk_msg_add_headerf(out, "CSeq", "%lu %s", (unsigned long)r->cseq, r->o.method);
    }
    if (r->o.contact)
        sk_msg_add_headerf(out, "Contact", "<%s>%s", ua->contact,
                           r->cparams != NULL ? r->cparams : "");
    sk_msg_add_header(out, "User-Agent", sk_slice_cstr(ua->user_agent));
    if (r->auth != NULL) {
        int rc = sk_auth_client_authorize(r->auth, sk_slice_cstr(r->o.method), sk_slice_cstr(ruri),
                                          body, out);
        if (rc != 0)
            return rc;
    }
    if (r->headers != NULL)
        sk_buf_append_cstr(out, r->headers);
    sk_msg_finish(out, sk_slice_cstr(r->ctype != NULL ? r->ctype : ""), body);
    if (!sk_buf_ok(out))
        return SK_ENOMEM;
    return sk_msg_parse(&r->sent, out->p, out->len, SK_MSG_DATAGRAM, NULL);
}

static void finish(struct sk_ua_req *r, enum sk_ua_outcome o, int err)
{
    r->outcome = o;
    r->error = err;
    if (r->o.on_response != NULL)
        r->o.on_response(r->o.arg, r, NULL);
}

/* Start a new client transaction for the request (first send or retry). */
static int start(struct sk_ua_req *r)
{
    char branch[SK_TXN_BRANCH_LEN + 1];
    struct sk_txn *txn = NULL;
    int rc;

    sk_txn_make_branch(branch);
    memcpy(r->branch, branch, sizeof(branch));
    rc = build(r, branch);
    if (rc != 0)
        return rc;
    if (r->txn != NULL) {
        sk_txn_set_user(r->txn, NULL);
        sk_txn_unref(r->txn);
        r->txn = NULL;
    }
    r->provisional = false;
    /* A send failure comes back through on_transport_error, possibly from
     * inside this call: the callbacks recognise the request by its branch. */
    rc = sk_txn_client_new(r->ua->txns, r->sent_buf.p, r->sent_buf.len, &r->peer, r, &txn);
    if (rc != 0)
        return rc;
    if (r->outcome != SK_UA_PENDING) {
        sk_txn_set_user(txn, NULL);
        sk_txn_unref(txn);
        return 0;
    }
    r->txn = txn;
    return 0;
}

static bool is_current(const struct sk_ua_req *r, struct sk_txn *txn)
{
    return sk_slice_eq(sk_txn_request(txn)->via.branch, sk_slice_cstr(r->branch));
}

/* Rank of a challenge's algorithm: higher is stronger; RFC 8760 §2.4 has
 * the server list challenges by preference, but we answer with the
 * strongest one offered whatever the order (a -sess variant ranks with its
 * hash). Unknown algorithms rank lowest. */
static int strength(const struct sk_digest_hdr *h)
{
    enum sk_auth_algo a = SK_ALGO_MD5;

    if ((h->present & (1u << SK_DIG_ALGORITHM)) &&
        sk_auth_algo_parse(h->f[SK_DIG_ALGORITHM], &a) != 0)
        return -1;
    switch (sk_auth_algo_hash(a)) {
    case SK_HASH_SHA512_256:
        return 3;
    case SK_HASH_SHA256:
        return 2;
    default:
        return 1;
    }
}

/* Stable insertion sort, strongest first. */
static void sort_challenges(struct sk_digest_hdr *ch, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct sk_digest_hdr x = ch[i];
        int sx = strength(&x);
        size_t j = i;
        while (j > 0 && strength(&ch[j - 1]) < sx) {
            ch[j] = ch[j - 1];
            j--;
        }
        ch[j] = x;
    }
}

/* A 401 / 407: take the challenges and resend, or say why not. Returns
 * true when a new request went out. */
static bool authenticate(struct sk_ua_req *r, const struct sk_msg *resp)
{
    enum sk_auth_kind kind = resp->status == 407 ? SK_AUTH_PROXY : SK_AUTH_WWW;
    enum sk_hdr_id id = kind == SK_AUTH_PROXY ? SK_HDR_PROXY_AUTHENTICATE : SK_HDR_WWW_AUTHENTICATE;
    struct sk_digest_hdr ch[MAX_CHALLENGES];
    size_t n = 0;
    int rc;

    for (size_t i = 0; i < resp->nhdrs && n < MAX_CHALLENGES; i++) {
        if (resp->hdrs[i].id == id && sk_digest_hdr_parse(resp->hdrs[i].value, &ch[n]) == 0)
            n++;
    }
    sort_challenges(ch, n);
    if (n > 0)
        sk_slice_to_cstr(ch[0].f[SK_DIG_REALM], r->realm, sizeof(r->realm));
    if (r->ua->password == NULL) {
        finish(r, SK_UA_AUTH_MISSING, 0);
        return true;
    }
    if (r->auth == NULL) {
        rc = sk_auth_client_new(&r->auth, sk_slice_cstr(r->ua->auth_name),
                                sk_slice_cstr(r->ua->password));
        if (rc != 0) {
            finish(r, SK_UA_NETWORK, rc);
            return true;
        }
    }
    rc = n > 0 ? sk_auth_client_challenge(r->auth, kind, ch, n) : SK_EAUTH;
    if (rc == SK_EAUTH || r->auth_rounds >= SK__UA_MAX_AUTH) {
        finish(r, r->auth_tries > 0 ? SK_UA_AUTH_REFUSED : SK_UA_AUTH_UNUSABLE, 0);
        return true;
    }
    if (rc != 0) {
        finish(r, SK_UA_NETWORK, rc);
        return true;
    }
    /* §22.2: same Call-ID and tags, CSeq one higher, new branch. */
    r->auth_rounds++;
    r->auth_tries++;
    r->cseq++;
    if (r->dialog != NULL)
        r->dialog->local_cseq = r->cseq;
    rc = start(r);
    if (rc != 0)
        finish(r, SK_UA_NETWORK, rc);
    return true;
}

static void keep_final(struct sk_ua_req *r, const struct sk_msg *resp)
{
    sk_buf_reset(&r->final_buf);
    sk_buf_append_slice(&r->final_buf, resp->raw);
    if (!sk_buf_ok(&r->final_buf) ||
        sk_msg_parse(&r->final, r->final_buf.p, r->final_buf.len, SK_MSG_DATAGRAM, NULL) != 0)
        sk_msg_init(&r->final); /* unreachable in practice: it parsed once */
}

void sk__req_on_response(struct sk_ua_req *r, struct sk_txn *txn, const struct sk_msg *resp)
{
    if (!is_current(r, txn))
        return;
    if (resp->status < 200) {
        if (r->outcome != SK_UA_PENDING)
            return;
        r->provisional = true;
        if (r->want_cancel && !r->cancelled) {
            r->cancelled = true;
            sk_txn_cancel(r->txn, NULL, NULL);
        }
        if (r->o.on_response != NULL)
            r->o.on_response(r->o.arg, r, resp);
        return;
    }
    if (r->outcome != SK_UA_PENDING) {
        /* RFC 6026 §7.2: 2xx retransmissions (or other forks) to an INVITE. */
        if (resp->status < 300 && r->status < 300 && r->o.on_response != NULL)
            r->o.on_response(r->o.arg, r, resp);
        return;
    }
    if ((resp->status == 401 || resp->status == 407) && !r->cancelled && authenticate(r, resp))
        return;
    r->status = resp->status;
    keep_final(r, resp);
    r->outcome = SK_UA_FINAL;
    if (r->o.on_response != NULL)
        r->o.on_response(r->o.arg, r, resp);
}

void sk__req_on_failure(struct sk_ua_req *r, struct sk_txn *txn, enum sk_ua_outcome o, int err)
{
    if (!is_current(r, txn) || r->outcome != SK_UA_PENDING)
        return;
    finish(r, o, err);
}

static int copy_opts(struct sk_ua_req *r, const struct sk_ua_req_opts *o)
{
    bool fail = false;
    char tok[17];

    r->o = *o;
    r->o.method = r->method = sk_strndup(o->method, strlen(o->method));
    fail |= r->method == NULL;
#define DUP(field, src)                                                                            \
    do {                                                                                           \
        if ((src) != NULL) {                                                                       \
            r->field = sk_strndup((src), strlen(src));                                             \
            fail |= r->field == NULL;                                                              \
        }                                                                                          \
    } while (0)
    DUP(ruri, o->ruri);
    DUP(to, o->to != NULL ? o->to : o->ruri);
    DUP(headers, o->headers);
    DUP(ctype, o->ctype);
    DUP(cparams, o->contact_params);
#undef DUP
    if (o->body.len > 0) {
        r->body = sk_strndup(o->body.p, o->body.len);
        fail |= r->body == NULL;
    }
    if (fail)
        return SK_ENOMEM;
    if (o->call_id != NULL && strlen(o->call_id) < sizeof(r->call_id)) {
        memcpy(r->call_id, o->call_id, strlen(o->call_id) + 1);
    } else {
        sk_ua_token(tok);
        memcpy(r->call_id, tok, sizeof(tok));
    }
    if (o->from_tag != NULL && strlen(o->from_tag) < sizeof(r->from_tag)) {
        memcpy(r->from_tag, o->from_tag, strlen(o->from_tag) + 1);
    } else {
        sk_ua_token(tok);
        memcpy(r->from_tag, tok, sizeof(tok));
    }
    r->cseq = o->cseq != 0 ? o->cseq : 1;
    return 0;
}

int sk_ua_request(struct sk_ua *ua, const struct sk_ua_req_opts *o, struct sk_ua_req **out)
{
    struct sk_ua_req *r;
    int rc;

    if (o == NULL || o->method == NULL || o->method[0] == '\0' ||
        (o->dialog == NULL && o->ruri == NULL) || strcmp(o->method, "ACK") == 0)
        return SK_EINVAL;
    r = sk_calloc(1, sizeof(*r));
    if (r == NULL)
        return SK_ENOMEM;
    r->ua = ua;
    sk_buf_init(&r->sent_buf);
    sk_buf_init(&r->final_buf);
    sk_msg_init(&r->sent);
    sk_msg_init(&r->final);
    rc = copy_opts(r, o);
    if (rc == 0 && o->dialog != NULL) {
        /* §12.2.1.1: in a dialog the CSeq counts up from the dialog's. */
        r->dialog = o->dialog;
        r->cseq = ++o->dialog->local_cseq;
        rc = sk__dialog_next_hop(o->dialog, &r->peer);
    } else if (rc == 0) {
        rc = sk_ua_target(ua, sk_slice_cstr(r->ruri), &r->peer);
    }
    if (rc == 0)
        rc = sk__ua_prepare_local(ua, &r->peer);
    if (rc == 0)
        rc = start(r);
    if (rc != 0) {
        sk_ua_req_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int sk_ua_req_cancel(struct sk_ua_req *r)
{
    if (r->sent.method_id != SK_METHOD_INVITE || r->outcome != SK_UA_PENDING || r->txn == NULL)
        return SK_ESTATE;
    if (r->cancelled || r->want_cancel)
        return 0;
    r->want_cancel = true;
    if (!r->provisional)
        return 0; /* §9.1: wait for a provisional response */
    r->cancelled = true;
    return sk_txn_cancel(r->txn, NULL, NULL);
}

void sk_ua_req_free(struct sk_ua_req *r)
{
    if (r == NULL)
        return;
    if (r->txn != NULL) {
        sk_txn_set_user(r->txn, NULL);
        sk_txn_unref(r->txn);
    }
    sk_auth_client_free(r->auth);
    sk_free(r->method);
    sk_free(r->ruri);
    sk_free(r->to);
    sk_free(r->headers);
    sk_free(r->ctype);
    sk_free(r->cparams);
    sk_free(r->body);
    sk_buf_free(&r->sent_buf);
    sk_buf_free(&r->final_buf);
    sk_msg_free(&r->sent);
    sk_msg_free(&r->final);
    sk_free(r);
}

enum sk_ua_outcome sk_ua_req_outcome(const struct sk_ua_req *r)
{
    return r->outcome;
}

unsigned sk_ua_req_status(const struct sk_ua_req *r)
{
    return r->outcome == SK_UA_FINAL ? r->status : 0;
}

const struct sk_msg *sk_ua_req_final(const struct sk_ua_req *r)
{
    return r->outcome == SK_UA_FINAL && r->final.raw.len > 0 ? &r->final : NULL;
}

const struct sk_msg *sk_ua_req_sent(const struct sk_ua_req *r)
{
    return &r->sent;
}

const struct sk_addr *sk_ua_req_peer(const struct sk_ua_req *r)
{
    return &r->peer;
}

int sk_ua_req_error(const struct sk_ua_req *r)
{
    return r->error;
}

unsigned sk_ua_req_auth_tries(const struct sk_ua_req *r)
{
    return r->auth_tries;
}

const char *sk_ua_req_realm(const struct sk_ua_req *r)
{
    return r->realm;
}

bool sk_ua_req_provisional(const struct sk_ua_req *r)
{
    return r->provisional;
}
