/*
 * sipkit store layer: the server's persistent state in one SQLite database
 * under a data directory (DIR/sipkit.db, WAL mode, busy timeout). Today it
 * holds users: per domain (which is the digest realm), one HA1 for each
 * digest hash (MD5, SHA-256, SHA-512-256) and the matching RFC 7616 §3.4.4
 * userhash; no plaintext password is ever stored. Location bindings and
 * subscriptions join it later, each in its own file and tables behind the
 * same struct sk_store.
 *
 * Changes made by another process (`sipkit users add` while `sipkit serve`
 * runs) are seen without a restart: before answering from its in-memory
 * cache, the store compares SQLite's PRAGMA data_version (at most every
 * refresh_ms, and always before trusting a cached "no such user") and
 * drops the cache when another connection committed.
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

struct sk_store;

struct sk_store_options {
    unsigned busy_timeout_ms; /* wait for another writer; 0 = 5000 */
    unsigned refresh_ms;      /* check for other processes' changes at most this often
                                 (default 100); 0 = on every lookup. A cached "no such
                                 user" is always re-checked, so new users work at once;
                                 a changed or deleted one within refresh_ms. */
    size_t cache_max;         /* cached user entries before the cache is emptied; 0 = 100000 */
};

void sk_store_options_init(struct sk_store_options *o);

/* Open (creating them if needed) the directory, with mode 0700, and its
 * database, with mode 0600. opt may be NULL. Returns 0, SK_EINVAL, -errno
 * (e.g. -EACCES for an unwritable directory), SK_EIO (SQLite failure) or
 * SK_ENOMEM. */
int sk_store_open(struct sk_store **out, const char *dir, const struct sk_store_options *opt);
void sk_store_close(struct sk_store *s);
const char *sk_store_dir(const struct sk_store *s);
/* Check now whether another process changed the database (cache refresh). */
int sk_store_refresh(struct sk_store *s);

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

/* An sk_auth_lookup_cb: pass the struct sk_store as lookup_arg. The realm
 * is the domain; hashed usernames (userhash) are resolved too. */
int sk_store_auth_lookup(void *store, struct sk_auth_lookup *q);

#endif
