/*
 * sipkit events layer: SIP-specific event notification (RFC 6665) from the
 * notifier's side, with the event packages the server serves: "reg"
 * (RFC 3680, application/reginfo+xml), "presence" (RFC 3856 with PIDF,
 * RFC 3863, and PUBLISH, RFC 3903) and "dialog" (RFC 4235,
 * application/dialog-info+xml).
 *
 * Pieces, from the bottom up:
 *  - package names and their body types;
 *  - XML body builders (every text value escaped) and a structural check
 *    of the PIDF documents publishers send;
 *  - the "reg" diff: which contact events a change of bindings means;
 *  - the subscription dialog (struct sk_subscription, in store.h, because
 *    it is also the durable record): filled from a SUBSCRIBE, and the
 *    NOTIFY requests built within it;
 *  - the publication state (struct sk_pubstate): entity-tags, refresh,
 *    modify, remove, expiry, written through to the store.
 *
 * Memory: builders write into a caller-owned sk_buf; input structs are
 * only read during the call. struct sk_pubstate owns its publications
 * (copies of the bodies) and is released with sk_pubstate_free().
 *
 * Threads: builders are reentrant. A struct sk_pubstate has one mutex;
 * every function on it may be called from any thread.
 */
#ifndef SIPKIT_EVENTS_H
#define SIPKIT_EVENTS_H

#include <sipkit/base.h>
#include <sipkit/msg.h>
#include <sipkit/store.h>

/* ---- packages -------------------------------------------------------------- */

enum sk_ev_pkg {
    SK_EV_PKG_NONE = 0, /* not served */
    SK_EV_PKG_REG,
    SK_EV_PKG_PRESENCE,
    SK_EV_PKG_DIALOG,
    SK_EV_PKG__COUNT
};

/* RFC 6665 §8.2.1: event-type tokens are compared case-sensitively. */
enum sk_ev_pkg sk_ev_pkg_from(struct sk_slice name);
const char *sk_ev_pkg_name(enum sk_ev_pkg p);  /* "" for NONE */
const char *sk_ev_pkg_ctype(enum sk_ev_pkg p); /* body type of its NOTIFYs */
/* "reg, presence, dialog": the Allow-Events value (RFC 6665 §8.2.2). */
#define SK_EV_ALLOW_EVENTS "presence, reg, dialog"

/* ---- XML ------------------------------------------------------------------- */

/* Append s with &, <, >, " and ' escaped; control characters other than
 * TAB, CR and LF (not allowed in XML 1.0) become U+FFFD. */
void sk_xml_escape(struct sk_buf *b, struct sk_slice s);

/* RFC 3680 §5.1 contact events. */
enum sk_reg_event {
    SK_REG_EV_REGISTERED,
    SK_REG_EV_CREATED,
    SK_REG_EV_REFRESHED,
    SK_REG_EV_SHORTENED,
    SK_REG_EV_EXPIRED,
    SK_REG_EV_DEACTIVATED,
    SK_REG_EV_PROBATION,
    SK_REG_EV_UNREGISTERED,
    SK_REG_EV_REJECTED,
};
const char *sk_reg_event_name(enum sk_reg_event e);

struct sk_reginfo_contact {
    const char *id; /* stable per contact within the registration */
    const char *uri;
    bool active; /* state="active", else "terminated" */
    enum sk_reg_event event;
    uint32_t expires;    /* seconds left, written for active contacts */
    int q;               /* thousandths, -1 to leave out */
    const char *call_id; /* NULL or "" to leave out */
    uint32_t cseq;
};

struct sk_reginfo {
    const char *aor;
    const char *reg_id; /* the registration element's id */
    uint32_t version;   /* RFC 3680 §5.3: +1 for every notification */
    bool full;          /* state="full" or "partial" */
    const struct sk_reginfo_contact *contacts;
    size_t ncontacts;
};

/* application/reginfo+xml (RFC 3680 §5.3). The registration state is
 * "active" when a contact is active, "init" when there are no contacts,
 * "terminated" otherwise. */
void sk_ev_reginfo_build(struct sk_buf *out, const struct sk_reginfo *ri);

/* The contact elements for a change of one AOR's bindings from old to cur
 * (both as sk_location_lookup() gives them) at now: a binding only in cur
 * is "registered", one in both whose expiry or CSeq moved is "refreshed"
 * (unchanged ones are listed active with event "registered" when
 * with_unchanged), one only in old is "expired" when its time had run out
 * at now and "unregistered" otherwise. ids are written into ids (one
 * 17-byte hex string per output entry). Returns the number written (at
 * most max). */
size_t sk_ev_reg_diff(const struct sk_binding *old, size_t nold, const struct sk_binding *cur,
                      size_t ncur, int64_t now, bool with_unchanged, struct sk_reginfo_contact *out,
                      char (*ids)[17], size_t max);

/* PIDF (RFC 3863 §4) with one tuple. */
struct sk_pidf {
    const char *entity;   /* "pres:alice@example.com" (or a sip: URI) */
    const char *tuple_id; /* NULL: "t1" */
    bool open;            /* basic status */
    const char *contact;  /* NULL or "" to leave out */
    const char *note;     /* NULL or "" to leave out */
};
void sk_ev_pidf_build(struct sk_buf *out, const struct sk_pidf *p);

/* A structural check of a published PIDF document (not a full XML
 * parser): an optional XML declaration, then a root element named
 * "presence" (any prefix) carrying the PIDF namespace
 * urn:ietf:params:xml:ns:pidf and an entity attribute, closed at the end,
 * with no NUL bytes. Returns 0, or SK_EPARSE with *why set to a short
 * English reason naming the defect. */
int sk_ev_pidf_check(struct sk_slice body, const char **why);

/* RFC 4235 §3.7.1 dialog states. */
enum sk_dlg_state {
    SK_DLG_TRYING,
    SK_DLG_PROCEEDING,
    SK_DLG_EARLY,
    SK_DLG_CONFIRMED,
    SK_DLG_TERMINATED,
};
const char *sk_dlg_state_name(enum sk_dlg_state s);

struct sk_dialog_info_dialog {
    const char *id; /* unique within the document */
    const char *call_id;
    const char *local_tag;  /* NULL or "" to leave out */
    const char *remote_tag; /* NULL or "" to leave out */
    bool initiator;         /* the watched user sent the INVITE */
    enum sk_dlg_state state;
    const char *event;      /* terminated: "cancelled", "rejected", ... NULL to leave out */
    unsigned code;          /* response code on the state, 0 to leave out */
    const char *local_uri;  /* the watched user's side, NULL to leave out */
    const char *remote_uri; /* the peer, NULL to leave out */
};

struct sk_dialog_info {
    const char *entity; /* sip:alice@example.com */
    uint32_t version;
    bool full;
    const struct sk_dialog_info_dialog *dialogs;
    size_t ndialogs;
};

/* application/dialog-info+xml (RFC 4235 §4). */
void sk_ev_dialog_info_build(struct sk_buf *out, const struct sk_dialog_info *di);

/* ---- the dialog package's state (RFC 4235) ------------------------------------ */

/* A change of one INVITE dialog as the proxy sees it, from the point of
 * view of one user (the caller's and the callee's views are two events). */
struct sk_dlg_event {
    const char *aor; /* the user watched: "alice@example.com" */
    const char *call_id;
    const char *local_tag;  /* the user's tag (may be empty while trying) */
    const char *remote_tag; /* the peer's tag (empty until a response has one) */
    bool initiator;         /* the user sent the INVITE */
    enum sk_dlg_state state;
    unsigned code;          /* response code that caused it, 0 if none */
    const char *event;      /* terminated: "cancelled", "rejected", ...; may be NULL */
    const char *local_uri;  /* may be NULL */
    const char *remote_uri; /* may be NULL */
    uint64_t now_ms;        /* monotonic time of the change */
    /* Change only a dialog already tracked, keeping who started it; make
     * none (a BYE does not say which end sent the INVITE). */
    bool known_only;
};

struct sk_dlgtrack;

int sk_dlgtrack_new(struct sk_dlgtrack **out);
void sk_dlgtrack_free(struct sk_dlgtrack *t); /* NULL-safe */
/* Record a change. A dialog is identified by AOR, Call-ID and the user's
 * tag (an early dialog that gets its remote tag stays the same dialog).
 * The callee's tag is only known from its first response: an event with a
 * tag that matches no dialog gives it to a live dialog of the same AOR and
 * Call-ID that has none yet (the "trying" one), other forks' responses
 * make new dialogs. Returns 0 (also when known_only found nothing),
 * SK_ETOOBIG (a value over its limit) or SK_ENOMEM. */
int sk_dlgtrack_update(struct sk_dlgtrack *t, const struct sk_dlg_event *e);
/* The full-state dialog-info document of aor (entity "sip:" aor) with the
 * given version. Terminated dialogs stay listed until purged. Returns the
 * number of dialogs listed, or SK_ENOMEM. */
int sk_dlgtrack_build(struct sk_dlgtrack *t, const char *aor, uint32_t version, struct sk_buf *out);
/* Forget dialogs terminated at or before before_ms. Returns how many. */
int sk_dlgtrack_purge(struct sk_dlgtrack *t, uint64_t before_ms);

/* ---- subscription dialogs (RFC 6665 §4.2.1, RFC 3261 §12.1.1) -------------- */

/* Fill sub from an accepted SUBSCRIBE (already checked with
 * sk_msg_check()): Call-ID, the watcher's tag and URI (From), our URI
 * (To), the remote target (Contact), the route set (Record-Route, in
 * order), CSeq, Event id and where it came from; key is our To tag,
 * package, watcher and resource the AORs the caller derived. local_cseq,
 * version, expires_at and state are left for the caller. Returns 0,
 * SK_EPARSE with *why set (no Contact, Contact is '*'), or SK_ETOOBIG (a
 * value over its limit, *why set). */
int sk_ev_sub_init(struct sk_subscription *sub, const struct sk_msg *req, const char *key,
                   const char *package, const char *watcher, const char *resource,
                   const char **why);

/* Whether an in-dialog SUBSCRIBE (To tag present) belongs to sub:
 * Call-ID, both tags and the Event package and id. */
bool sk_ev_sub_matches(const struct sk_subscription *sub, const struct sk_msg *req);

/* What a NOTIFY needs besides the dialog. */
struct sk_ev_notify {
    struct sk_slice via;     /* "SIP/2.0/UDP 192.0.2.1:5060" (no branch) */
    struct sk_slice branch;  /* from sk_txn_make_branch() */
    struct sk_slice contact; /* our Contact URI */
    enum sk_sub_state state;
    uint32_t expires;      /* active / pending: seconds left */
    const char *reason;    /* terminated: "timeout", "deactivated", ... */
    struct sk_slice ctype; /* empty: no body */
    struct sk_slice body;
};

/* Build the next NOTIFY of the dialog (RFC 6665 §4.2.2, RFC 3261 §12.2.1.1)
 * and advance sub->local_cseq. Request-URI the remote target, Route the
 * route set, From our URI with our tag, To the watcher's URI and tag,
 * Call-ID, CSeq, Event with the id, Subscription-State with expires or
 * reason, Contact, Max-Forwards 70, and the body. Returns 0 or SK_ENOMEM. */
int sk_ev_notify_build(struct sk_buf *out, struct sk_subscription *sub,
                       const struct sk_ev_notify *n);

/* The URI the NOTIFY is sent towards (RFC 3261 §8.1.2): the first entry of
 * the route set when there is one (loose routing), else the remote target.
 * Returns 0 or SK_EPARSE. */
int sk_ev_sub_next_hop(const struct sk_subscription *sub, struct sk_uri *out);

/* ---- publications (RFC 3903) ------------------------------------------------ */

struct sk_pubstate_options {
    uint32_t min_expires;     /* shorter non-zero Expires: 423; 0 = 60 */
    uint32_t max_expires;     /* longer Expires are cut to this; 0 = 3600 */
    uint32_t default_expires; /* no Expires header; 0 = 3600 */
    struct sk_store *store;   /* write publications through; may be NULL */
};

struct sk_pubstate;

int sk_pubstate_new(struct sk_pubstate **out, const struct sk_pubstate_options *opt);
void sk_pubstate_free(struct sk_pubstate *ps); /* NULL-safe */
/* Load the store's publications (unexpired at now). Returns 0 or SK_EIO. */
int sk_pubstate_load(struct sk_pubstate *ps, int64_t now);

struct sk_pub_request {
    struct sk_slice resource; /* AOR key */
    struct sk_slice package;
    struct sk_slice if_match; /* SIP-If-Match, empty when absent */
    int64_t expires;          /* Expires header, -1 when absent */
    struct sk_slice ctype;    /* "type/subtype" of the body */
    struct sk_slice body;
    int64_t now; /* wall clock seconds */
};

struct sk_pub_result {
    unsigned status;                /* 200, 400, 412, 423 */
    const char *reason;             /* reason phrase */
    char etag[SK_PUB_ETAG_MAX + 1]; /* SIP-ETag of a 200; empty after a removal */
    uint32_t expires;               /* Expires of a 200 */
    uint32_t min_expires;           /* Min-Expires of a 423 */
    bool changed;                   /* the state watchers see changed: notify them */
};

/* RFC 3903 §6: initial publication (no SIP-If-Match, body required),
 * refresh (SIP-If-Match, no body), modify (SIP-If-Match and a body) and
 * removal (SIP-If-Match and Expires: 0); 412 when the entity-tag is not
 * one of this resource's and package's; 423 with Min-Expires below the
 * minimum; a longer Expires is cut to the maximum. Every 200 carries a new
 * entity-tag except the removal's. Returns 0 (the answer is in *res) or
 * SK_EIO / SK_ENOMEM (answer 500: nothing changed). */
int sk_pubstate_apply(struct sk_pubstate *ps, const struct sk_pub_request *rq,
                      struct sk_pub_result *res);

/* The state a resource's watchers see for a package: the body of its most
 * recently published (initial or modify) unexpired publication, copied
 * into body and its type into ctype. Returns 1 when there is one, 0 when
 * not, SK_ENOMEM. */
int sk_pubstate_current(struct sk_pubstate *ps, struct sk_slice resource, struct sk_slice package,
                        int64_t now, struct sk_buf *body, char *ctype, size_t ctypesz);

/* Called once per removed publication (its resource and package). */
typedef void (*sk_pubstate_change_cb)(void *arg, const char *resource, const char *package);
/* Drop publications expired at now (memory and store). Returns how many. */
int sk_pubstate_purge(struct sk_pubstate *ps, int64_t now, sk_pubstate_change_cb cb, void *arg);
size_t sk_pubstate_count(struct sk_pubstate *ps);
/* Replace the publications of (resource, package) in memory by the
 * store's (another server on the same database changed them). Returns 0,
 * SK_ENOMEM or an error of the store (memory then holds what was read). */
int sk_pubstate_reload(struct sk_pubstate *ps, const char *resource, const char *package,
                       int64_t now);

#endif
