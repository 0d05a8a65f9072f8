/*
 * The proxy's hooks into the server core, answered the way a server
 * without a proxy answers: a request that names a user or another host is
 * handled as if addressed to the server itself (OPTIONS 200, other methods
 * 405 with Allow, unknown ones 501); ACKs for 2xx and stray responses are
 * dropped (RFC 3261 §18.1.2); the INVITEs a CANCEL matches belong to the
 * pipeline (487).
 *
 * The stateful proxy (RFC 3261 §16, src/server/proxy*.c) replaces this
 * file: it defines the same functions (see internal.h).
 *
 * Memory: nothing is kept.
 */
#include "server/internal.h"

void sk__proxy_request(struct sk__req *r)
{
    sk__local_handle(r);
}

bool sk__proxy_cancel(struct sk_server *s, struct sk_txn *invite)
{
    (void)s;
    (void)invite;
    return false;
}

void sk__proxy_ack(struct sk_server *s, const struct sk_msg *ack, const struct sk_addr *from)
{
    (void)s;
    (void)ack;
    (void)from;
}

void sk__proxy_stray_response(struct sk_server *s, const struct sk_msg *resp,
                              const struct sk_addr *from)
{
    (void)s;
    (void)from;
    SK_LOG(SK_LOG_DEBUG, "server", "event=stray_response status=%u", resp->status);
}

void sk__proxy_response(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp)
{
    (void)s;
    (void)txn;
    (void)resp;
}

void sk__proxy_timeout(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp)
{
    (void)s;
    (void)txn;
    (void)resp;
}

void sk__proxy_transport_error(struct sk_server *s, struct sk_txn *txn, int err,
                               const struct sk_msg *resp)
{
    (void)s;
    (void)resp;
    SK_LOG(SK_LOG_DEBUG, "server", "event=transport_error kind=%s error=\"%s\"",
           sk_txn_kind_name(sk_txn_kind(txn)), sk_strerror(err));
}

void sk__proxy_terminated(struct sk_server *s, struct sk_txn *txn)
{
    (void)s;
    (void)txn;
}
