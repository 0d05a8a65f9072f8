/*
 * Private state of the server's notifier (RFC 6665), shared by events.c
 * (SUBSCRIBE and PUBLISH handling) and events_notify.c (the subscription
 * table, NOTIFYs through the server's client transactions, expiry, the
 * registrar's and proxy's hooks).
 *
 * Ownership: struct sk__events owns every struct esub (one heap block
 * each, linked in two hash chains: by key and by resource), the
 * publication state and the dialog tracker. One mutex guards the table;
 * lock order is events -> pubstate / dialog tracker / location / store,
 * never the other way. NOTIFYs are built under the lock into an outbox
 * and sent after it is released, because the transaction layer may call
 * back (transport error) from inside sk_txn_client_new().
 */
#ifndef SK_SERVER_EVENTS_INT_H
#define SK_SERVER_EVENTS_INT_H

#include "server/internal.h"

#include <sipkit/containers.h>
#include <sipkit/events.h>

#include <stdatomic.h>

/* The store keeps each subscription's NOTIFY CSeq and body version this
 * far ahead of what was sent, and is written again only when NOTIFYs
 * have used the reservation up, not once per NOTIFY. After kill -9 a
 * subscription resumes from the reservation, above anything it sent:
 * RFC 3261 §12.2.1.1 asks only that CSeqs increase within the dialog, and
 * a version that jumps tells the watcher it missed a document (RFC 3680
 * §5.3, RFC 4235 §4.1), which the full-state body it carries repairs. */
#define SK__EV_SEQ_BLOCK 64u

struct esub {
    struct sk_hnode bykey; /* by subscription key */
    struct sk_hnode byres; /* by resource and package */
    struct sk_subscription sub;
    enum sk_ev_pkg pkg;
    bool linked;    /* in the table (a fetch is not) */
    bool in_flight; /* a NOTIFY awaits its final response */
    bool again;     /* state changed meanwhile: notify once it is answered */
    bool ending;    /* the next NOTIFY is the terminated one */
    const char *end_reason;
    /* What the store holds for local_cseq and version: a reservation
     * ahead of what was sent (sk__ev_store, SK__EV_SEQ_BLOCK). */
    uint32_t cseq_mark, version_mark;
    /* reg: the bindings the last NOTIFY reported, to name what changed */
    struct sk_binding *reg_last;
    size_t reg_n;
};

struct sk__events {
    pthread_mutex_t lock;
    struct sk_server *s;
    struct sk_htab bykey;
    struct sk_htab byres;
    struct sk_pubstate *pubs;
    struct sk_dlgtrack *dialogs;
    /* events_caps.c: linked subscriptions per watcher and per address */
    struct sk_htab subs_by_watcher, subs_by_addr;
    atomic_uint nreg;           /* linked "reg" subscriptions: read without the lock */
    char local[SK_ADDR_STRLEN]; /* our host:port for Via and Contact, found lazily */
};

/* NOTIFYs built under the lock, sent after it. */
struct sk__outbox {
    struct sk__outmsg *head;
};

/* events_notify.c: all called with ev->lock held unless said otherwise. */
struct esub *sk__ev_find(struct sk__events *ev, struct sk_slice key);
void sk__ev_link(struct sk__events *ev, struct esub *e);
/* Unlink (when linked), delete from the store, free. */
void sk__ev_drop(struct sk__events *ev, struct esub *e);
/* Send the current state now, or once the NOTIFY in flight is answered.
 * When e->ending, the NOTIFY is the terminated one and e is dropped. */
void sk__ev_notify(struct sk__events *ev, struct esub *e, struct sk__outbox *box);
/* Every subscription of pkg to resource. */
void sk__ev_notify_resource(struct sk__events *ev, const char *resource, enum sk_ev_pkg pkg,
                            struct sk__outbox *box);
/* Write e through to the store (insert or replace), CSeq and version
 * reserved SK__EV_SEQ_BLOCK ahead. Locking: as sk_store_sub_put (needs no
 * table lock, but e must not change meanwhile). */
int sk__ev_store(struct sk__events *ev, struct esub *e);
/* Our host:port for Via and Contact. */
const char *sk__ev_local(struct sk__events *ev);
/* Our Contact URI for a dialog with peer: sip:HOST:PORT, naming the TLS
 * listener and ;transport=tls when peer is on TLS. */
void sk__ev_contact(struct sk__events *ev, const struct sk_addr *peer, char *out, size_t outsz);
/* Without the lock: send and free what the outbox holds. */
void sk__ev_flush(struct sk__events *ev, struct sk__outbox *box);

/* events_caps.c, with the lock held: count what sk__ev_link links and
 * sk__ev_drop unlinks; the reason phrase of a 403 when a new subscription
 * would pass a cap, else NULL. */
void sk__evcaps_added(struct sk__events *ev, const struct esub *e);
void sk__evcaps_removed(struct sk__events *ev, const struct esub *e);
const char *sk__evcaps_refuse(const struct sk__events *ev, const char *watcher, const char *src_ip);
void sk__evcaps_free(struct sk__events *ev);

#endif
