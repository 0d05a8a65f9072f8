/*
 * sipkit store layer: the server's persistent state in one database:
 * SQLite under a data directory (DIR/sipkit.db, WAL mode, busy timeout) by
 * default, or PostgreSQL (sk_store_open_url() with a postgresql:// URL),
 * which several processes on several hosts may share. Either way the
 * schema is sipkit's, created and migrated at open (table
 * schema_version). It
 * holds users: per domain (which is the digest realm), one HA1 for each
 * digest hash (MD5, SHA-256, SHA-512-256) and the matching RFC 7616 §3.4.4
 * userhash; no plaintext password is ever stored. Location bindings (struct
 * sk_location, below) keep their own table in the same database;
 * subscriptions join later, each in its own file and tables.
 *
 * Changes made by another process (`sipkit users add` while `sipkit serve`
 * runs) are seen without a restart: before answering from its in-memory
 * cache, the store reads a change counter that triggers on the users
 * table move (at most every refresh_ms, and always before trusting a
 * cached "no such user") and drops the cache when it moved.
 *
 * Memory: struct sk_store owns its connection, its copy of the directory
 * path and its caches; sk_store_close() releases all (NULL-safe). Strings
 * passed in are copied or only read during the call; strings handed to a
 * callback are valid during that callback only. Output buffers are the
 * caller's.
 *
 * Threads: every function may be called from any thread; one mutex per
 * store serialises access to the connection and the cache (lookups hit
 * the cache and hold it briefly). Several processes may open the same
 * directory at once; SQLite's locking and the busy timeout arbitrate.
 */
#ifndef SIPKIT_STORE_H
#define SIPKIT_STORE_H

#include <sipkit/auth.h>
#include <sipkit/base.h>
#include <sipkit/transport.h>

struct sk_store;

/* What an acknowledged write survives (the server's writes: bindings,
 * subscriptions, publications). */
enum sk_store_durability {
    SK_STORE_CRASH = 0, /* a crash of the process (kill -9): WAL, synchronous=NORMAL */
    SK_STORE_POWER = 1, /* a power cut too: synchronous=FULL, one fsync per group COMMIT */
};

struct sk_store_options {
    enum sk_store_durability durability;
    unsigned busy_timeout_ms; /* wait for another writer; 0 = 5000 */
    unsigned refresh_ms;      /* check for other processes' changes at most this often
                                 (default 100); 0 = on every lookup. A cached "no such
                                 user" is always re-checked, so new users work at once;
                                 a changed or deleted one within refresh_ms. */
    size_t cache_max;         /* cached user entries before the cache is emptied; 0 = 100000 */
    /* PostgreSQL: a file whose first line is the password (read at open,
     * kept in memory for reconnections). NULL: libpq's own sources
     * (PGPASSWORD, ~/.pgpass). A password in the URL is refused. */
    const char *password_file;
};

void sk_store_options_init(struct sk_store_options *o);

/* Open (creating them if needed) the directory, with mode 0700, and its
 * database, with mode 0600. opt may be NULL. Returns 0, SK_EINVAL, -errno
 * (e.g. -EACCES for an unwritable directory), SK_EIO (SQLite failure) or
 * SK_ENOMEM. */
int sk_store_open(struct sk_store **out, const char *dir, const struct sk_store_options *opt);
/* Open the store a URL names: "postgresql://USER@HOST:PORT/DB" (or
 * postgres://, any libpq URI without a password) is PostgreSQL; "sqlite:DIR"
 * or a plain path is sk_store_open(DIR). PostgreSQL must answer at open;
 * later outages are survived (see "Unreachable database" below). Returns
 * what sk_store_open() returns, SK_ESCHEME (another scheme), SK_EINVAL (a
 * password in the URL, an unreadable password file), SK_EUNAVAIL (cannot
 * connect), SK_EVERSION (a schema newer than this sipkit). */
int sk_store_open_url(struct sk_store **out, const char *url, const struct sk_store_options *opt);
void sk_store_close(struct sk_store *s);
/* The data directory (SQLite), NULL for PostgreSQL. */
const char *sk_store_dir(const struct sk_store *s);
/* "sqlite" or "postgresql". */
const char *sk_store_backend(const struct sk_store *s);
/* The digest nonce secret every process on this store shares (len bytes,
 * made on first use), so that a nonce minted by one server node verifies
 * on another. Returns 0, SK_ENOTFOUND (SQLite: the auth layer keeps it in
 * a file of the data directory instead), SK_EUNAVAIL, SK_EIO.
 *
 * Unreachable database (PostgreSQL): every write that cannot commit fails
 * with SK_EUNAVAIL (the server answers 503 with Retry-After, never a 200
 * without its COMMIT); lookups are answered from the in-memory caches
 * (bindings, users already seen); the store reconnects in the background
 * with a growing delay (100 ms doubling to 5 s) and logs every change of
 * each connection's state (event=db_state). */
int sk_store_secret(struct sk_store *s, unsigned char *out, size_t len);
/* Whether this (nonce, nc) was used before by any process on this store,
 * recording it when not (kept until expires_s, wall clock seconds):
 * replay refusal across server nodes. Returns 0 (first use), SK_EEXIST
 * (a replay), SK_EUNAVAIL, SK_EIO. SQLite: always 0 (one server per data
 * directory; its auth layer's own table refuses replays). An
 * sk_auth_nc_cb: pass the struct sk_store as nc_shared_arg. */
int sk_store_auth_nc(void *store, struct sk_slice nonce, uint32_t nc, int64_t expires_s);
/* Stop hearing other servers' changes (a shared store's change feed):
 * once this returns, no location on_change callback runs for them any
 * more. For shutdown, before what on_change uses goes away. */
void sk_store_feed_stop(struct sk_store *s);
/* Check now whether another process changed the database (cache refresh). */
int sk_store_refresh(struct sk_store *s);
/* Wait until every write queued so far (bindings, subscriptions,
 * publications) is committed and its completion callback ran. Not from a
 * completion callback. */
void sk_store_flush(struct sk_store *s);

/* ---- users ---------------------------------------------------------------- */

/* Limits on names (octets); names may not hold control characters. */
#define SK_STORE_USER_MAX   SK_AUTH_NAME_MAX
#define SK_STORE_DOMAIN_MAX 255

/* Add a user with a password (used only to compute the HA1 values).
 * Returns 0, SK_EEXIST, SK_EINVAL (empty password, bad name), SK_EIO. */
int sk_store_user_add(struct sk_store *s, const char *domain, const char *user,
                      struct sk_slice password);
/* Change the password. Returns 0, SK_ENOTFOUND, SK_EINVAL, SK_EIO. */
int sk_store_user_passwd(struct sk_store *s, const char *domain, const char *user,
                         struct sk_slice password);
/* Returns 0, SK_ENOTFOUND, SK_EINVAL, SK_EIO. */
int sk_store_user_del(struct sk_store *s, const char *domain, const char *user);

/* Called once per user, ordered by domain then name; a non-zero return
 * stops the listing and is returned by sk_store_user_list(). */
typedef int (*sk_store_user_cb)(void *arg, const char *domain, const char *user);
/* List the users of domain (NULL: every domain). */
int sk_store_user_list(struct sk_store *s, const char *domain, sk_store_user_cb cb, void *arg);

/* HA1 (hex, NUL-terminated, SK_AUTH_HEX_MAX + 1 bytes) of a user. Returns
 * 0, SK_ENOTFOUND or SK_EIO. */
int sk_store_user_ha1(struct sk_store *s, struct sk_slice domain, struct sk_slice user,
                      enum sk_auth_hash hash, char *out);

/* The digest algorithms a user requires, in its order of preference
 * (list->n == 0: the server's list, also for unknown users, so the answer
 * reveals nothing about them). Cheap while no user has a list of its own.
 * Returns 0 or SK_EIO. */
int sk_store_user_algorithms(struct sk_store *s, struct sk_slice domain, struct sk_slice user,
                             struct sk_auth_algos *list);
/* Require list for a user (list->n == 0: back to the server's list).
 * Returns 0, SK_ENOTFOUND, SK_EINVAL, SK_EIO. */
int sk_store_user_set_algorithms(struct sk_store *s, const char *domain, const char *user,
                                 const struct sk_auth_algos *list);

/* An sk_auth_lookup_cb: pass the struct sk_store as lookup_arg. The realm
 * is the domain; hashed usernames (userhash) are resolved too. */
int sk_store_auth_lookup(void *store, struct sk_auth_lookup *q);

/* ---- location bindings (RFC 3261 §10, RFC 3327, RFC 5626) ------------------
 *
 * struct sk_location is the location service: for each address-of-record
 * (AOR, the key "user@host" the server derives from a To or Request-URI,
 * see sk__aor_key() in src/server/internal.h) the contacts registered for
 * it, each with its expiry, q-value, the Call-ID and CSeq of the REGISTER
 * that last wrote it, its Path, and the source (transport, address, port,
 * TCP connection) the REGISTER came from, so a UA behind NAT is reached the
 * way it came in.
 *
 * Bindings live in memory (hash by AOR, sharded locks: lookups never touch
 * SQLite) and in the store's database (table `location`, WAL,
 * synchronous=NORMAL by default: a committed transaction survives kill -9
 * of the process). Writes go to the store's one writer thread, which
 * groups concurrent changes into one COMMIT (group commit).
 * sk_location_update_async() tells its caller the outcome from that thread
 * once the COMMIT ended, so a 200 OK sent from there is a promise kept
 * across a crash and no event loop waits on the disk;
 * sk_location_update() waits for it (tools and tests). Bindings are loaded
 * at open; expired ones are dropped by sk_location_purge(), which the
 * server calls from its timer.
 *
 * Memory: struct sk_location owns its bindings and writes through the
 * struct sk_store it was opened on (the store must outlive it).
 * struct sk_binding is a plain value with fixed-size strings: results are
 * copied out under the shard lock, nothing points into the location's
 * memory.
 *
 * Threads: every function except open/close may be called from any thread
 * at once, except that sk_location_update() must not be called from an
 * on_change or done callback. Callbacks
 * (on_change, watched, done, foreach) are called with no lock held; done
 * and watched from the store's writer thread (so done must not wait for
 * the store), on_change from its completion thread (the writer's helper,
 * which runs no SQL itself and may wait for further writes) after the
 * update's done.
 */

/* Longest values kept (octets, without the NUL); longer input is refused
 * by sk_location_update() (SK_ETOOBIG) except User-Agent, which is cut. */
#define SK_LOC_AOR_MAX      256
#define SK_LOC_URI_MAX      1024
#define SK_LOC_CALLID_MAX   256
#define SK_LOC_PATH_MAX     1024
#define SK_LOC_IP_MAX       63
#define SK_LOC_INSTANCE_MAX 256
#define SK_LOC_UA_MAX       255
/* Bindings one AOR may hold unless sk_location_options says otherwise. */
#define SK_LOC_DEFAULT_MAX_PER_AOR 16

struct sk_binding {
    char aor[SK_LOC_AOR_MAX + 1];
    char contact[SK_LOC_URI_MAX + 1]; /* the Contact URI, without < > or header params */
    int64_t expires_at;               /* wall clock, seconds since the epoch */
    int q;                            /* q-value in thousandths (0..1000); -1 when not given */
    char call_id[SK_LOC_CALLID_MAX + 1];
    uint32_t cseq;
    /* RFC 3327: the Path header values of the REGISTER, in order, joined
     * with ", " (a Route set towards the UA); empty when none. */
    char path[SK_LOC_PATH_MAX + 1];
    /* Where the REGISTER came from. conn_id is the TCP connection (0 for
     * UDP); after a restart it names no open connection any more. */
    enum sk_transport transport;
    char src_ip[SK_LOC_IP_MAX + 1];
    uint16_t src_port;
    uint64_t conn_id;
    /* RFC 5626 §4.2: +sip.instance (without its quotes and <>), reg-id (0
     * when absent). A binding with an instance is identified by
     * (instance, reg_id) instead of its Contact URI. */
    char instance[SK_LOC_INSTANCE_MAX + 1];
    uint32_t reg_id;
    char user_agent[SK_LOC_UA_MAX + 1];
    int64_t updated_at; /* wall clock of the last write */
};

/* Seconds left before a binding expires at now (0 when expired). */
static inline uint32_t sk_binding_remaining(const struct sk_binding *b, int64_t now)
{
    return b->expires_at > now ? (uint32_t)(b->expires_at - now) : 0;
}

struct sk_location;

/* Called after a change to an AOR's bindings was committed (update,
 * purge): the subscription layer's "reg" and presence hooks. */
typedef void (*sk_location_change_cb)(void *arg, const char *aor);
/* Whether on_change has anything to do now (has any watcher): when it
 * says no, an update's on_change is skipped. Called on the store's writer
 * thread after the change is visible in memory: it must not block. */
typedef bool (*sk_location_watched_cb)(void *arg);

struct sk_location_options {
    unsigned shards;    /* power of two; 0 = 64 */
    size_t max_per_aor; /* 0 = SK_LOC_DEFAULT_MAX_PER_AOR */
    bool read_only;     /* listing tools: load only, never write */
    sk_location_change_cb on_change;
    sk_location_watched_cb watched; /* NULL: on_change always runs */
    void *change_arg;               /* for both */
};

/* Open the location service on store's database, creating its table if
 * needed, and load every stored binding. opt may be NULL. Returns 0,
 * SK_EINVAL, SK_EIO or SK_ENOMEM. */
int sk_location_open(struct sk_location **out, struct sk_store *store,
                     const struct sk_location_options *opt);
void sk_location_close(struct sk_location *loc); /* NULL-safe */

/* The unexpired bindings of aor at now (wall clock seconds), highest q
 * first (no q counts as 1.0), then the most recently updated first. At
 * most max are written to out; *n gets how many were written. Returns 0
 * (with *n = 0 when there are none) or SK_EINVAL. This is the proxy's
 * lookup (RFC 3261 §16.5). */
int sk_location_lookup(struct sk_location *loc, struct sk_slice aor, int64_t now,
                       struct sk_binding *out, size_t max, size_t *n);

/* One Contact of a REGISTER, already checked and resolved by the
 * registrar (§10.3 steps 6 and 8). */
struct sk_location_contact {
    struct sk_slice uri; /* the Contact URI */
    uint32_t expires;    /* seconds from now; 0 removes the binding */
    int q;               /* thousandths, -1 when not given */
    struct sk_slice instance;
    uint32_t reg_id;
};

/* Decides whether two Contact URIs are the same binding (RFC 3261
 * §19.1.4 comparison: the registrar passes its own; NULL = byte equality). */
typedef bool (*sk_location_same_cb)(void *arg, struct sk_slice a, struct sk_slice b);

/* One REGISTER's changes for one AOR, applied all or nothing. */
struct sk_location_update {
    struct sk_slice aor;
    struct sk_slice call_id;
    uint32_t cseq;
    bool remove_all; /* Contact: * with Expires: 0 (§10.3 step 6) */
    const struct sk_location_contact *contacts;
    size_t ncontacts;
    struct sk_slice path; /* joined Path values, may be empty */
    struct sk_slice user_agent;
    enum sk_transport transport;
    struct sk_slice src_ip;
    uint16_t src_port;
    uint64_t conn_id;
    int64_t now; /* wall clock seconds */
    sk_location_same_cb same_uri;
    void *same_arg;
};

/* Apply an update per RFC 3261 §10.3 steps 6-8: a binding named by a
 * contact (every binding for remove_all) that was written with the same
 * Call-ID must have a lower CSeq than u->cseq, otherwise nothing changes
 * and SK_ESTATE is returned (step 7: the request fails; the registrar
 * answers 500); one written with another Call-ID is updated or removed.
 * A new binding with expires 0 is no change. Returns once the change is
 * durable: 0; SK_ESTATE (out of order, see above); SK_ETOOBIG (a value over
 * its limit, or more than max_per_aor bindings would result); SK_EINVAL;
 * SK_EIO (the commit failed: the change is undone in memory too). On 0,
 * out (may be NULL) gets the AOR's bindings after the change, as
 * sk_location_lookup() orders them. */
int sk_location_update(struct sk_location *loc, const struct sk_location_update *u,
                       struct sk_binding *out, size_t max, size_t *n);

/* The outcome of an asynchronous update: result as sk_location_update()
 * returns it (SK_EIO, -ENOSPC... when the COMMIT failed), n the bindings
 * written to its out array (0 unless result is 0). Called once, from the
 * store's writer thread right after the COMMIT: it must not wait for the
 * store (no sk_location_update, no subscription writes) nor take a lock
 * that a thread may hold while doing so. Sending a response is fine. */
typedef void (*sk_location_done_cb)(void *arg, int result, size_t n);
/* sk_location_update() without waiting: memory changes now (a lookup sees
 * the new bindings at once), the disk in the writer's next COMMIT, and
 * done is called after it with the AOR's bindings written to out (which
 * must stay valid until then; out may be NULL with max 0). A 200 OK must
 * be sent from done, not before. Returns 0 (done will be called) or an
 * error found before anything was queued (SK_ESTATE, SK_ETOOBIG,
 * SK_EINVAL, SK_ENOMEM; done is not called). */
int sk_location_update_async(struct sk_location *loc, const struct sk_location_update *u,
                             struct sk_binding *out, size_t max, sk_location_done_cb done,
                             void *arg);

/* Remove every binding that expired at or before now from memory, and
 * queue their removal from the disk (done in the writer's next COMMIT;
 * sk_location_close() waits for it). Returns how many were removed. */
int sk_location_purge(struct sk_location *loc, int64_t now);

/* Called once per unexpired binding, ordered by AOR then as lookup orders
 * them; a non-zero return stops the walk and is returned. */
typedef int (*sk_location_binding_cb)(void *arg, const struct sk_binding *b);
/* Every binding (aor empty) or those of one AOR, unexpired at now. */
int sk_location_foreach(struct sk_location *loc, struct sk_slice aor, int64_t now,
                        sk_location_binding_cb cb, void *arg);
/* The stream (TCP, TLS) connection conn_id closed: cb for each unexpired
 * binding whose REGISTER came over it, found through an index of the
 * AORs each connection registered (cost: those AORs' bindings, not every
 * binding), which forgets the connection. Call it once per close. */
int sk_location_conn_closed(struct sk_location *loc, uint64_t conn_id, int64_t now,
                            sk_location_binding_cb cb, void *arg);
/* The same walk while conn_id is open, the index untouched: whether a
 * connection still carries a registration. SK_ENOMEM without memory for
 * a copy of the AOR keys. */
int sk_location_conn_foreach(struct sk_location *loc, uint64_t conn_id, int64_t now,
                             sk_location_binding_cb cb, void *arg);
/* Bindings in memory (expired ones not yet purged included). */
size_t sk_location_count(struct sk_location *loc);
/* Durations of the group COMMITs so far (any thread; racy snapshot). */
const struct sk_histo *sk_location_commit_times(const struct sk_location *loc);

/* ---- subscriptions and publications (RFC 6665, RFC 3903) -------------------
 *
 * The durable half of the events layer (include/sipkit/events.h): every
 * accepted subscription (the notifier's side of its dialog) and every
 * publication is written to tables `subscriptions` and `publications` in
 * the store's database before the 200 OK that promises it, so both survive
 * kill -9 and restart like bindings do. The events layer keeps the live
 * copies in memory and loads these at start.
 *
 * Memory and threads: writes go through the store's writer thread and
 * wait for their COMMIT (without the store's mutex); walks read under the
 * mutex. Records are plain values; strings handed to a callback are valid
 * during the call only.
 */

#define SK_SUB_KEY_MAX   64 /* our tag in the dialog: unique, the key */
#define SK_SUB_PKG_MAX   32
#define SK_SUB_ID_MAX    64 /* the Event header's id parameter */
#define SK_SUB_TAG_MAX   128
#define SK_SUB_ROUTE_MAX 2048

enum sk_sub_state {
    SK_SUB_ACTIVE = 0,
    SK_SUB_PENDING = 1,
    SK_SUB_TERMINATED = 2,
};

/* One subscription seen from the notifier: the dialog (RFC 3261 §12.1.1
 * as UAS, RFC 6665 §4.2.1) and the subscription's own state. */
struct sk_subscription {
    char key[SK_SUB_KEY_MAX + 1];     /* our To tag, unique per subscription */
    char package[SK_SUB_PKG_MAX + 1]; /* Event package, e.g. "presence" */
    char event_id[SK_SUB_ID_MAX + 1]; /* Event id parameter, may be empty */
    char call_id[SK_LOC_CALLID_MAX + 1];
    char remote_tag[SK_SUB_TAG_MAX + 1];    /* the watcher's From tag */
    char local_uri[SK_LOC_URI_MAX + 1];     /* SUBSCRIBE's To URI: our From */
    char remote_uri[SK_LOC_URI_MAX + 1];    /* SUBSCRIBE's From URI: our To */
    char remote_target[SK_LOC_URI_MAX + 1]; /* SUBSCRIBE's Contact URI */
    /* §12.1.1: the Record-Route values of the SUBSCRIBE, in order, joined
     * with ", "; empty when none. */
    char route_set[SK_SUB_ROUTE_MAX + 1];
    char watcher[SK_LOC_AOR_MAX + 1];  /* AOR of the subscriber (From) */
    char resource[SK_LOC_AOR_MAX + 1]; /* AOR watched (Request-URI) */
    uint32_t remote_cseq;              /* last SUBSCRIBE's CSeq */
    uint32_t local_cseq;               /* last NOTIFY's CSeq */
    uint32_t version;                  /* body version (RFC 3680 §5.3, RFC 4235 §4.1) */
    int64_t expires_at;                /* wall clock seconds */
    enum sk_sub_state state;
    /* Where the SUBSCRIBE came from: NOTIFYs go back that way when the
     * watcher is behind a NAT (RFC 3581 applied to the dialog). */
    enum sk_transport transport;
    char src_ip[SK_LOC_IP_MAX + 1];
    uint16_t src_port;
    uint64_t conn_id;
};

/* Insert or replace (by key). Returns once committed: 0, SK_EINVAL, SK_EIO. */
int sk_store_sub_put(struct sk_store *s, const struct sk_subscription *sub);
/* Record a NOTIFY's CSeq and body version (cheaper than a put). Returns 0,
 * SK_ENOTFOUND, SK_EIO. */
int sk_store_sub_seq(struct sk_store *s, const char *key, uint32_t local_cseq, uint32_t version);
/* Returns 0, SK_ENOTFOUND, SK_EIO. */
int sk_store_sub_del(struct sk_store *s, const char *key);
typedef int (*sk_store_sub_cb)(void *arg, const struct sk_subscription *sub);
/* Every stored subscription, by key. A non-zero return stops the walk. */
int sk_store_sub_foreach(struct sk_store *s, sk_store_sub_cb cb, void *arg);

#define SK_PUB_ETAG_MAX  32
#define SK_PUB_CTYPE_MAX 127
#define SK_PUB_BODY_MAX  16384

/* One publication (RFC 3903 §6): an event state a publisher keeps alive
 * under an entity-tag. */
struct sk_publication {
    char etag[SK_PUB_ETAG_MAX + 1];
    char resource[SK_LOC_AOR_MAX + 1];
    char package[SK_SUB_PKG_MAX + 1];
    char ctype[SK_PUB_CTYPE_MAX + 1];
    int64_t expires_at;
    int64_t updated_at; /* wall clock of the last modify (ordering) */
    uint64_t seq;       /* strictly increasing per process: ties in updated_at */
    struct sk_slice body;
};

/* Insert or replace (by etag; old_etag, when not NULL, is removed in the
 * same transaction: RFC 3903 §6 gives a new entity-tag on every refresh
 * and modify). Returns 0, SK_EINVAL, SK_EIO. */
int sk_store_pub_put(struct sk_store *s, const struct sk_publication *p, const char *old_etag);
int sk_store_pub_del(struct sk_store *s, const char *etag);
typedef int (*sk_store_pub_cb)(void *arg, const struct sk_publication *p);
int sk_store_pub_foreach(struct sk_store *s, sk_store_pub_cb cb, void *arg);
/* Called on a thread of the store when another server on the same
 * database committed a change to the publications of (resource,
 * package): PostgreSQL's change feed (docs/cluster.md). */
typedef void (*sk_store_pub_feed_cb)(void *arg, const char *resource, const char *package);
/* Start (cb) or stop (cb NULL; waits for a running call) that feed.
 * Returns 0 (also on a backend without one: SQLite) or a backend error. */
int sk_store_pub_feed(struct sk_store *s, sk_store_pub_feed_cb cb, void *arg);

/* ---- bans (the server's guard) -------------------------------------------- */

/* One banned address ("192.0.2.7", "2001:db8::1"), until a wall-clock
 * time (seconds since the epoch). level counts the bans in a row (each
 * doubles the time); reason is "auth_failures" or "flood". */
struct sk_store_ban {
    char addr[64];
    int64_t until;
    unsigned level;
    char reason[32];
    int64_t created;
};

/* Insert or replace the ban of b->addr. Returns 0 or SK_EIO. */
int sk_store_ban_put(struct sk_store *s, const struct sk_store_ban *b);
/* Lift a ban ("all": every ban). Returns 0, SK_ENOTFOUND or SK_EIO. A
 * running server notices within seconds. */
int sk_store_ban_del(struct sk_store *s, const char *addr);
/* Remove bans that ended at or before now. */
int sk_store_ban_purge(struct sk_store *s, int64_t now);
/* Bans in force at now, ordered by address; a non-zero return of cb stops
 * the listing and is returned. cb must not call into the store. */
typedef int (*sk_store_ban_cb)(void *arg, const struct sk_store_ban *b);
int sk_store_ban_list(struct sk_store *s, int64_t now, sk_store_ban_cb cb, void *arg);

#endif
