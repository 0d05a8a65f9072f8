/*
 * Users and their digest HA1 values, per domain (the realm).
 *
 * RFC 3261 §22.4 / RFC 7616 §3.4.2: the server needs only
 * HA1 = H(user:realm:password), so that is what is stored, once per hash
 * (MD5, SHA-256, SHA-512-256), with RFC 7616 §3.4.4 userhash values
 * H(user:realm) indexed for clients that hide their name. The password
 * given to add/passwd is hashed and forgotten.
 *
 * A user may require particular digest algorithms (column algorithms, a
 * list such as "SHA-256"; empty means the server's own list): lookups
 * return it, and the server then offers and accepts only those for that
 * user.
 *
 * Lookups are answered from a cache (chained hash table keyed by kind,
 * domain and name, negative answers included so unknown names do not
 * reach the database every time). The statements are the backend's
 * (struct sk__store_ops; SQLite: sqlite_users.c). While the database is
 * unreachable, cached users keep authenticating. The cache is emptied when the store's
 * generation moves (another process committed, or we wrote) or when it
 * reaches cache_max entries, so its memory is bounded.
 *
 * Memory: cache entries are heap blocks owned by the cache; results are
 * copied out under the store lock.
 */
#include "store/store_int.h"

#include <sipkit/containers.h>

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

enum key_kind { KEY_NAME = 0, KEY_USERHASH = 1 + SK_HASH_MD5 };

struct entry {
    struct sk_hnode hnode;
    int kind; /* KEY_NAME, or KEY_USERHASH + hash */
    bool found;
    struct sk_auth_algos algos; /* n == 0: the server's list */
    char ha1[SK_HASH__COUNT][SK_AUTH_HEX_MAX + 1];
    char user[SK_STORE_USER_MAX + 1];
    size_t keylen;
    char key[]; /* domain NUL name */
};

struct sk__user_cache {
    struct sk_htab tab;
    uint64_t generation;
    /* Users with a list of their own, counted when the generation moves:
     * while there are none, challenges need no lookup at all. */
    int64_t custom_algos;
};

static void cache_clear(struct sk__user_cache *c)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    sk_htab_iter_init(&it, &c->tab);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        struct entry *e = SK_CONTAINER_OF(n, struct entry, hnode);
        sk_htab_remove(&c->tab, n);
        OPENSSL_cleanse(e->ha1, sizeof(e->ha1));
        sk_free(e);
    }
}

static int64_t count_custom(struct sk_store *s)
{
    int64_t n = 1; /* unknown: look users up */

    if (s->ops->user_count_custom(s, &n) != 0)
        n = 1;
    return n;
}

int sk__users_init(struct sk_store *s)
{
    struct sk__user_cache *c = sk_calloc(1, sizeof(*c));

    if (c == NULL)
        return SK_ENOMEM;
    s->users = c;
    c->custom_algos = count_custom(s);
    return 0;
}

void sk__users_free(struct sk_store *s)
{
    struct sk__user_cache *c = s->users;

    if (c == NULL)
        return;
    cache_clear(c);
    sk_htab_free(&c->tab);
    sk_free(c);
    s->users = NULL;
}

/* ---- validation and writes ------------------------------------------------ */

static bool valid_name(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static int check_args(const char *domain, const char *user)
{
    if (!valid_name(domain, SK_STORE_DOMAIN_MAX) || !valid_name(user, SK_STORE_USER_MAX))
        return SK_EINVAL;
    for (const char *p = domain; *p != '\0'; p++) {
        if (*p == ' ' || *p == '"')
            return SK_EINVAL;
    }
    return 0;
}

static int make_secrets(const char *domain, const char *user, struct sk_slice pw,
                        struct sk__secrets *out)
{
    for (int h = 0; h < SK_HASH__COUNT; h++) {
        if (sk_auth_ha1(h, sk_slice_cstr(user), sk_slice_cstr(domain), pw, out->ha1[h]) != 0 ||
            sk_auth_userhash(h, sk_slice_cstr(user), sk_slice_cstr(domain), out->uh[h]) != 0)
            return SK_EIO;
    }
    return 0;
}

/* Run one write through the backend; our own write empties the caches
 * at once (no need to wait for refresh_ms). */
static int write_user(struct sk_store *s, enum sk__user_write op, const char *domain,
                      const char *user, const struct sk__secrets *sec, int *changes)
{
    int rc = s->ops->user_write(s, op, domain, user, sec, changes);

    if (rc == 0) {
        pthread_mutex_lock(&s->lock);
        s->generation++;
        pthread_mutex_unlock(&s->lock);
    }
    return rc;
}

/* Derive the HA1s and userhashes of a new password and run sql (add or
 * change) with them; the derived secrets are wiped afterwards. */
static int store_password(struct sk_store *s, enum sk__user_write op, const char *domain,
                          const char *user, struct sk_slice password, int *changes)
{
    struct sk__secrets sec;
    int rc;

    rc = check_args(domain, user);
    if (rc == 0 && password.len == 0)
        rc = SK_EINVAL;
    if (rc == 0)
        rc = make_secrets(domain, user, password, &sec);
    if (rc == 0)
        rc = write_user(s, op, domain, user, &sec, changes);
    OPENSSL_cleanse(&sec, sizeof(sec));
    return rc;
}

int sk_store_user_add(struct sk_store *s, const char *domain, const char *user,
                      struct sk_slice password)
{
    int changes = 0;

    return store_password(s, SK__USER_ADD, domain, user, password, &changes);
}

int sk_store_user_passwd(struct sk_store *s, const char *domain, const char *user,
                         struct sk_slice password)
{
    int changes = 0;
    int rc = store_password(s, SK__USER_PASSWD, domain, user, password, &changes);

    if (rc == 0 && changes == 0)
        rc = SK_ENOTFOUND;
    return rc;
}

int sk_store_user_del(struct sk_store *s, const char *domain, const char *user)
{
    int rc, changes = 0;

    rc = check_args(domain, user);
    if (rc == 0)
        rc = write_user(s, SK__USER_DEL, domain, user, NULL, &changes);
    if (rc == 0 && changes == 0)
        rc = SK_ENOTFOUND;
    return rc;
}

int sk_store_user_list(struct sk_store *s, const char *domain, sk_store_user_cb cb, void *arg)
{
    return s->ops->user_list(s, domain, cb, arg);
}

/* ---- lookups ----------------------------------------------------------------- */

/* The keyed hash: names come from the network, unknown ones are cached
 * too, so a peer must not be able to pick names that share a chain. */
static uint64_t key_hash(int kind, struct sk_slice domain, struct sk_slice name)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_u64(&h, (uint64_t)kind);
    sk_hasher_field(&h, domain);
    sk_hasher_field(&h, name);
    return sk_hasher_end(&h);
}

static bool key_eq(const struct entry *e, int kind, struct sk_slice domain, struct sk_slice name)
{
    return e->kind == kind && e->keylen == domain.len + 1 + name.len &&
           memcmp(e->key, domain.p, domain.len) == 0 && e->key[domain.len] == '\0' &&
           memcmp(e->key + domain.len + 1, name.p, name.len) == 0;
}

/* Load one user from the database into a new cache entry (found or not). */
static struct entry *load(struct sk_store *s, int kind, struct sk_slice domain,
                          struct sk_slice name, int *err)
{
    struct entry *e = sk_calloc(1, sizeof(*e) + domain.len + name.len + 2);
    struct sk__user_row row;
    int rc;

    if (e == NULL) {
        *err = SK_ENOMEM;
        return NULL;
    }
    e->kind = kind;
    e->keylen = domain.len + 1 + name.len;
    memcpy(e->key, domain.p, domain.len);
    memcpy(e->key + domain.len + 1, name.p, name.len);
    memset(&row, 0, sizeof(row));
    rc = s->ops->user_get(s, kind == KEY_NAME ? -1 : kind - KEY_USERHASH, domain, name, &row);
    if (rc == 0) {
        e->found = true;
        memcpy(e->ha1, row.ha1, sizeof(e->ha1));
        memcpy(e->user, row.user, sizeof(e->user));
        /* A list this version cannot read means the server's list. */
        if (row.algos[0] == '\0' || sk_auth_algos_parse(row.algos, true, &e->algos) != 0)
            e->algos.n = 0;
    } else if (rc != SK_ENOTFOUND) {
        sk_free(e);
        e = NULL;
        *err = rc;
    }
    OPENSSL_cleanse(&row, sizeof(row));
    return e;
}

/* Empty the cache when the store moved on or it is full. */
static void cache_sync(struct sk_store *s, struct sk__user_cache *c)
{
    if (c->generation != s->generation || sk_htab_count(&c->tab) >= s->opt.cache_max) {
        if (c->generation != s->generation)
            c->custom_algos = count_custom(s);
        cache_clear(c);
        c->generation = s->generation;
    }
}

static int lookup(struct sk_store *s, int kind, struct sk_slice domain, struct sk_slice name,
                  enum sk_auth_hash hash, char *ha1, char *user, struct sk_auth_algos *algos)
{
    struct sk__user_cache *c = s->users;
    uint64_t h = key_hash(kind, domain, name);
    struct entry *e;
    int rc = 0;

    if (domain.len > SK_STORE_DOMAIN_MAX || name.len > SK_AUTH_HEX_MAX + SK_STORE_USER_MAX ||
        (unsigned)hash >= SK_HASH__COUNT)
        return SK_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    sk__store_check_changes(s, false);
    for (int pass = 0; pass < 2; pass++) {
        cache_sync(s, c);
        e = NULL;
        for (struct sk_hnode *n = sk_htab_first(&c->tab, h); n != NULL; n = sk_htab_next(n)) {
            if (key_eq(SK_CONTAINER_OF(n, struct entry, hnode), kind, domain, name)) {
                e = SK_CONTAINER_OF(n, struct entry, hnode);
                break;
            }
        }
        /* A cached "no such user" is trusted only after a fresh look at
         * store_version: a user just added by `sipkit users` must work at
         * once, while the common positive hit skips that check (a SQLite
         * read lock, i.e. fcntl calls) between refresh_ms ticks. */
        if (pass == 1 || e == NULL || e->found)
            break;
        sk__store_check_changes(s, true);
    }
    if (e == NULL) {
        e = load(s, kind, domain, name, &rc);
        if (e != NULL && sk_htab_insert(&c->tab, &e->hnode, h) != 0) {
            OPENSSL_cleanse(e->ha1, sizeof(e->ha1));
            sk_free(e);
            e = NULL;
            rc = SK_ENOMEM;
        }
    }
    if (e != NULL && !e->found)
        rc = SK_ENOTFOUND;
    else if (e != NULL) {
        if (ha1 != NULL)
            memcpy(ha1, e->ha1[hash], sizeof(e->ha1[hash]));
        if (user != NULL)
            memcpy(user, e->user, sizeof(e->user));
        if (algos != NULL)
            *algos = e->algos;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sk_store_user_ha1(struct sk_store *s, struct sk_slice domain, struct sk_slice user,
                      enum sk_auth_hash hash, char *out)
{
    return lookup(s, KEY_NAME, domain, user, hash, out, NULL, NULL);
}

int sk_store_auth_lookup(void *store, struct sk_auth_lookup *q)
{
    int kind = q->is_userhash ? KEY_USERHASH + (int)q->hash : KEY_NAME;

    return lookup(store, kind, q->realm, q->username, q->hash, q->ha1, q->user, &q->algorithms);
}

int sk_store_user_algorithms(struct sk_store *s, struct sk_slice domain, struct sk_slice user,
                             struct sk_auth_algos *out)
{
    struct sk__user_cache *c = s->users;
    bool none;

    out->n = 0;
    pthread_mutex_lock(&s->lock);
    sk__store_check_changes(s, false);
    cache_sync(s, c);
    none = c->custom_algos == 0;
    pthread_mutex_unlock(&s->lock);
    if (none)
        return 0;
    int rc = lookup(s, KEY_NAME, domain, user, SK_HASH_MD5, NULL, NULL, out);
    return rc == SK_ENOTFOUND ? 0 : rc;
}

int sk_store_user_set_algorithms(struct sk_store *s, const char *domain, const char *user,
                                 const struct sk_auth_algos *list)
{
    char text[128];
    int changes = 0;
    int rc = check_args(domain, user);

    if (rc != 0)
        return rc;
    sk_auth_algos_format(list, text, sizeof(text));
    rc = s->ops->user_set_algos(s, domain, user, text, &changes);
    pthread_mutex_lock(&s->lock);
    s->generation++;
    pthread_mutex_unlock(&s->lock);
    if (rc == 0 && changes == 0)
        rc = SK_ENOTFOUND;
    return rc;
}
