/*
 * UDP: reading datagrams in batches (recvmmsg) and sending them, with the
 * responses produced while a received batch is handled sent together in
 * one sendmmsg at the end of the batch.
 *
 * Why batch sends: under load a wake-up reads several requests at once
 * (the poll handle is level-triggered, see sk__udp_readable), and a
 * stateless answer or a forwarded request is produced for each. One
 * system call for all of them instead of one each saves the per-call
 * cost that otherwise dominates the send path. The delay is bounded by
 * the batch (SK__UDP_BATCH messages). Only datagrams to the host the
 * current message came from are queued (answers, in practice): that host
 * is reachable, so the send error the caller no longer sees would have
 * been rare; a request forwarded elsewhere goes out at once and its error
 * (no route, say) is returned, so a transaction can report it (RFC 3261
 * §17.1.4). Nothing changes outside a batch: a send from another thread,
 * from a TCP callback or from a timer goes out at once.
 *
 * Memory: the worker's queue (entries and a byte buffer holding copies of
 * the queued datagrams) is reused for every batch; it grows to the
 * largest batch seen and is freed with the worker.
 */
#include "transport/internal.h"

#include <errno.h>
#include <string.h>

/* ---- sending ------------------------------------------------------------ */

static void log_send_failed(const struct sk_addr *to, int err)
{
    char a[SK_ADDR_STRLEN];

    SK_LOG(SK_LOG_WARN, "transport", "event=send_failed transport=udp peer=%s error=\"%s\"",
           sk_addr_format(to, a, sizeof(a)), strerror(err));
}

/* Send everything queued, one sendmmsg per run of entries on the same
 * socket. A datagram the kernel refuses is logged and skipped. */
static void flush(struct sk_tp_worker *w)
{
    struct mmsghdr mm[SK__UDP_TXQ];
    struct iovec iov[SK__UDP_TXQ];
    size_t i = 0;

    while (i < w->txq_n) {
        size_t n = 0;
        int fd = w->txq[i].fd;
        while (i + n < w->txq_n && w->txq[i + n].fd == fd) {
            struct sk__udp_tx *t = &w->txq[i + n];
            iov[n].iov_base = w->txq_bytes.p + t->off;
            iov[n].iov_len = t->len;
            memset(&mm[n], 0, sizeof(mm[n]));
            mm[n].msg_hdr.msg_name = &t->to.sa;
            mm[n].msg_hdr.msg_namelen = sk_addr_len(&t->to);
            mm[n].msg_hdr.msg_iov = &iov[n];
            mm[n].msg_hdr.msg_iovlen = 1;
            n++;
        }
        for (size_t done = 0; done < n;) {
            int r = sendmmsg(fd, mm + done, (unsigned)(n - done), 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                /* The first unsent one failed; the rest may still go. */
                log_send_failed(&w->txq[i + done].to, r < 0 ? errno : EIO);
                done++;
                continue;
            }
            for (int k = 0; k < r; k++)
                SK__INC(w->tx_msgs);
            done += (size_t)r;
        }
        i += n;
    }
    w->txq_n = 0;
    sk_buf_reset(&w->txq_bytes);
}

/* Queue a copy: the caller reuses its buffer for the next message. */
static int enqueue(struct sk_tp_worker *w, int fd, const struct sk_addr *to, const void *data,
                   size_t len)
{
    struct sk__udp_tx *t;

    if (w->txq_n == SK__UDP_TXQ)
        flush(w);
    t = &w->txq[w->txq_n];
    t->off = w->txq_bytes.len;
    sk_buf_append(&w->txq_bytes, data, len);
    if (!sk_buf_ok(&w->txq_bytes)) {
        sk_buf_reset(&w->txq_bytes);
        return SK_ENOMEM;
    }
    t->fd = fd;
    t->to = *to;
    t->len = len;
    w->txq_n++;
    return 0;
}

int sk__udp_send(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len)
{
    struct sk_tp_worker *cur = sk__tp_current();
    struct sk_tp_worker *w = cur != NULL && cur->tp == tp ? cur : &tp->workers[0];
    int family = dst->addr.sa.sa_family;
    int li = -1;

    if (dst->listener >= 0 && (size_t)dst->listener < tp->nlisteners &&
        tp->bound[dst->listener].sa.sa_family == family && w->udp[dst->listener].active)
        li = dst->listener;
    for (size_t i = 0; li < 0 && i < tp->nlisteners; i++) {
        if (w->udp[i].active && tp->bound[i].sa.sa_family == family)
            li = (int)i;
    }
    if (li < 0)
        return SK_ENOTFOUND;
    sk__tp_trace_out(tp, SK_TP_UDP, &tp->bound[li], &dst->addr, data, len);
    if (w == cur && w->batch_peer != NULL && sk_addr_same_host(&dst->addr, w->batch_peer))
        return enqueue(w, w->udp[li].fd, &dst->addr, data, len);
    /* Outside a batch: a plain sendto on the worker's descriptor, one
     * system call, thread-safe when another thread sends. */
    if (sendto(w->udp[li].fd, data, len, 0, &dst->addr.sa, sk_addr_len(&dst->addr)) < 0) {
        int err = errno;
        log_send_failed(&dst->addr, err);
        return -err;
    }
    SK__INC(w->tx_msgs);
    return 0;
}

/* ---- receiving ----------------------------------------------------------- */

/* RFC 5626 §3.5.1: a CRLF keep-alive (or an empty datagram), at most a
 * double CRLF. Looks at len bytes only: the slot is not NUL-terminated
 * and may hold an older, longer datagram behind these bytes. */
static bool is_keepalive(const char *p, size_t len)
{
    if (len > 4)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\r' && p[i] != '\n')
            return false;
    }
    return true;
}

/* RFC 5626 §4.4.2: a STUN Binding request on the SIP port is a client's
 * keep-alive; it learns its public address from the answer. */
static void stun_answer(struct sk__udp *u, const char *p, size_t len, const struct sk_addr *from)
{
    unsigned char out[64];
    size_t n;

    n = sk__stun_binding_response(p, len, from, out, sizeof(out));
    if (n > 0 && sendto(u->fd, out, n, 0, &from->sa, sk_addr_len(from)) < 0)
        log_send_failed(from, errno);
}

/* Read up to a batch of datagrams in one system call. The poll handle is
 * level-triggered, so a short batch means the socket is drained and no
 * extra call is spent learning so; a full batch reads again. */
void sk__udp_readable(uv_poll_t *h, int status, int events)
{
    struct sk__udp *u = h->data;
    struct sk_tp_worker *w = u->w;
    struct mmsghdr msgs[SK__UDP_BATCH];
    struct iovec iov[SK__UDP_BATCH];
    struct sk_addr from[SK__UDP_BATCH];

    (void)events;
    if (status != 0)
        return;
    for (int round = 0; round < 4 && !w->stopping; round++) {
        int n;
        for (unsigned i = 0; i < SK__UDP_BATCH; i++) {
            iov[i].iov_base = w->rbuf + i * w->rbuf_size;
            iov[i].iov_len = w->rbuf_size;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i].ss;
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i].ss);
        }
        n = recvmmsg(u->fd, msgs, SK__UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            const char *p = iov[i].iov_base;
            /* A keep-alive (RFC 5626 §3.5.1 CRLF, or empty) is not a
             * message. */
            if (is_keepalive(p, len))
                continue;
            if (sk__stun_is(p, len)) {
                stun_answer(u, p, len, &from[i]);
                continue;
            }
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
                len = w->rbuf_size; /* over max_size: the parser says 513 */
            /* A single datagram gains nothing from queueing its answer. */
            w->batch_peer = n > 1 ? &from[i] : NULL;
            sk__tp_deliver(w, SK_TP_UDP, u->listener, &from[i], NULL, p, len, 0);
        }
        w->batch_peer = NULL;
        if (w->txq_n > 0)
            flush(w);
        if (n < SK__UDP_BATCH)
            return;
    }
}
