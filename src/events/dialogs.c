/*
 * The dialog package's state (RFC 4235 §3.7.1): for each user, the INVITE
 * dialogs the proxy reported, each with its current state, kept until a
 * while after it terminated so every watcher's next notification shows
 * how it ended. Documents are always full state.
 *
 * A PBX user takes thousands of calls at once, so nothing here walks more
 * than it must: a dialog is found by (AOR, Call-ID, local tag) in one keyed
 * hash table, a document walks only its AOR's list, and terminated dialogs
 * wait in a list ordered by when they ended, which purge eats from the
 * front.
 *
 * Every call is tracked whether anyone watches its parties or not: a
 * watcher who subscribes in the middle of a call must get the call's
 * current state in its first full-state document, which skipping
 * unwatched users would lose; with the work per event constant, the
 * saving would be small (bench/README.md, calls).
 *
 * Memory: each dialog is one heap block sized to its strings, replaced by
 * a new block when an update changes them; each AOR with dialogs has one
 * block holding the list head. All owned by the tracker. Threads: one
 * mutex around everything.
 */
#include <sipkit/containers.h>
#include <sipkit/events.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define EVENT_MAX 31

/* The strings of a dialog, stored one after another in its block. */
enum field { F_CALLID, F_LTAG, F_RTAG, F_LURI, F_RURI, F_EVENT, NFIELDS };

static const size_t field_max[NFIELDS] = {
    SK_LOC_CALLID_MAX, SK_SUB_TAG_MAX, SK_SUB_TAG_MAX, SK_LOC_URI_MAX, SK_LOC_URI_MAX, EVENT_MAX,
};

struct aor {
    struct sk_hnode hnode;
    struct sk_dlist dialogs; /* newest first */
    char name[];
};

struct dlg {
    struct sk_hnode hnode;    /* by AOR, Call-ID and local tag */
    struct sk_dlist in_aor;   /* the AOR's dialogs */
    struct sk_dlist in_ended; /* terminated ones, oldest end first */
    struct aor *aor;
    uint64_t changed_ms;
    enum sk_dlg_state state;
    unsigned code;
    bool initiator;
    char id[17];
    uint16_t off[NFIELDS];
    char text[];
};

struct sk_dlgtrack {
    pthread_mutex_t lock;
    struct sk_htab dialogs;
    struct sk_htab aors;
    struct sk_dlist ended;
};

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static const char *field(const struct dlg *d, enum field f)
{
    return d->text + d->off[f];
}

static uint64_t dialog_hash(const char *aor, const char *call_id, const char *tag)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_cstr(&h, aor);
    sk_hasher_cstr(&h, call_id);
    sk_hasher_cstr(&h, tag);
    return sk_hasher_end(&h);
}

int sk_dlgtrack_new(struct sk_dlgtrack **out)
{
    struct sk_dlgtrack *t = sk_calloc(1, sizeof(*t));

    if (t == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    sk_htab_init(&t->dialogs);
    sk_htab_init(&t->aors);
    sk_dlist_init(&t->ended);
    *out = t;
    return 0;
}

void sk_dlgtrack_free(struct sk_dlgtrack *t)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    if (t == NULL)
        return;
    sk_htab_iter_init(&it, &t->dialogs);
    while ((n = sk_htab_iter_next(&it)) != NULL)
        sk_free(SK_CONTAINER_OF(n, struct dlg, hnode));
    sk_htab_iter_init(&it, &t->aors);
    while ((n = sk_htab_iter_next(&it)) != NULL)
        sk_free(SK_CONTAINER_OF(n, struct aor, hnode));
    sk_htab_free(&t->dialogs);
    sk_htab_free(&t->aors);
    pthread_mutex_destroy(&t->lock);
    sk_free(t);
}

static struct aor *find_aor(const struct sk_dlgtrack *t, const char *name, uint64_t h)
{
    for (struct sk_hnode *n = sk_htab_first(&t->aors, h); n != NULL; n = sk_htab_next(n)) {
        struct aor *a = SK_CONTAINER_OF(n, struct aor, hnode);
        if (strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

static struct aor *get_aor(struct sk_dlgtrack *t, const char *name)
{
    uint64_t h = sk_hash(name, strlen(name));
    struct aor *a = find_aor(t, name, h);
    size_t len = strlen(name);

    if (a != NULL)
        return a;
    a = sk_malloc(sizeof(*a) + len + 1);
    if (a == NULL)
        return NULL;
    memcpy(a->name, name, len + 1);
    sk_dlist_init(&a->dialogs);
    if (sk_htab_insert(&t->aors, &a->hnode, h) != 0) {
        sk_free(a);
        return NULL;
    }
    return a;
}

/* An AOR stays only while it has dialogs. */
static void put_aor(struct sk_dlgtrack *t, struct aor *a)
{
    if (!sk_dlist_empty(&a->dialogs))
        return;
    sk_htab_remove(&t->aors, &a->hnode);
    sk_free(a);
}

static struct dlg *find(const struct sk_dlgtrack *t, const char *aor, const char *call_id,
                        const char *tag, uint64_t h)
{
    for (struct sk_hnode *n = sk_htab_first(&t->dialogs, h); n != NULL; n = sk_htab_next(n)) {
        struct dlg *d = SK_CONTAINER_OF(n, struct dlg, hnode);
        if (strcmp(field(d, F_CALLID), call_id) == 0 && strcmp(field(d, F_LTAG), tag) == 0 &&
            strcmp(d->aor->name, aor) == 0)
            return d;
    }
    return NULL;
}

/* A block holding these strings, its header copied from d if there is one
 * (links not included). */
static struct dlg *make(const struct dlg *d, const char *const v[NFIELDS])
{
    size_t len[NFIELDS], total = 0;
    struct dlg *nd;

    for (int f = 0; f < NFIELDS; f++) {
        len[f] = strlen(v[f]);
        total += len[f] + 1;
    }
    nd = sk_malloc(sizeof(*nd) + total);
    if (nd == NULL)
        return NULL;
    if (d != NULL)
        *nd = *d;
    else
        memset(nd, 0, sizeof(*nd));
    total = 0;
    for (int f = 0; f < NFIELDS; f++) {
        nd->off[f] = (uint16_t)total;
        memcpy(nd->text + total, v[f], len[f] + 1);
        total += len[f] + 1;
    }
    return nd;
}

static int create(struct sk_dlgtrack *t, const struct sk_dlg_event *e, const char *const v[NFIELDS],
                  uint64_t h, struct dlg **out)
{
    struct aor *a = get_aor(t, e->aor);
    struct dlg *d = a != NULL ? make(NULL, v) : NULL;

    if (d == NULL || sk_htab_insert(&t->dialogs, &d->hnode, h) != 0) {
        sk_free(d);
        if (a != NULL)
            put_aor(t, a);
        return SK_ENOMEM;
    }
    d->aor = a;
    /* Who sent the INVITE is known when the dialog is first seen; a later
     * BYE from either side does not tell. */
    d->initiator = e->initiator;
    /* §4.1.2: the id only has to be unique in the document; the hash of
     * what identified the dialog first keeps it stable across updates. */
    snprintf(d->id, sizeof(d->id), "%016llx", (unsigned long long)h);
    sk_dlist_push_front(&a->dialogs, &d->in_aor);
    sk_dlist_init(&d->in_ended);
    *out = d;
    return 0;
}

/* Give d the strings v (and the hash h when the local tag changed),
 * moving it to a block of the right size if they differ. */
static int restring(struct sk_dlgtrack *t, struct dlg **dp, const char *const v[NFIELDS],
                    uint64_t h)
{
    struct dlg *d = *dp, *nd;
    bool same = true;

    for (int f = 0; f < NFIELDS && same; f++)
        same = strcmp(field(d, f), v[f]) == 0;
    if (same)
        return 0;
    nd = make(d, v);
    if (nd == NULL)
        return SK_ENOMEM;
    if (h != d->hnode.hash) {
        sk_htab_remove(&t->dialogs, &d->hnode);
        sk_htab_insert(&t->dialogs, &nd->hnode, h); /* cannot fail: the table has buckets */
    } else {
        sk_htab_replace(&d->hnode, &nd->hnode);
    }
    sk_dlist_replace(&d->in_aor, &nd->in_aor);
    sk_dlist_replace(&d->in_ended, &nd->in_ended);
    sk_free(d);
    *dp = nd;
    return 0;
}

int sk_dlgtrack_update(struct sk_dlgtrack *t, const struct sk_dlg_event *e)
{
    const char *v[NFIELDS] = {str(e->call_id),   str(e->local_tag),  str(e->remote_tag),
                              str(e->local_uri), str(e->remote_uri), str(e->event)};
    const char *aor = str(e->aor);
    uint64_t h;
    struct dlg *d;
    int rc = 0;

    if (strlen(aor) > SK_LOC_AOR_MAX)
        return SK_ETOOBIG;
    for (int f = 0; f < NFIELDS; f++) {
        if (strlen(v[f]) > field_max[f])
            return SK_ETOOBIG;
    }
    h = dialog_hash(aor, v[F_CALLID], v[F_LTAG]);
    pthread_mutex_lock(&t->lock);
    d = find(t, aor, v[F_CALLID], v[F_LTAG], h);
    /* A tag seen for the first time goes to a live dialog of the same call
     * still without one (RFC 4235 §3.7.1: the callee's tag comes with its
     * first response, after "trying"); other forks make new dialogs. */
    if (d == NULL && v[F_LTAG][0] != '\0') {
        d = find(t, aor, v[F_CALLID], "", dialog_hash(aor, v[F_CALLID], ""));
        if (d != NULL && d->state == SK_DLG_TERMINATED)
            d = NULL;
    }
    if (d == NULL && e->known_only)
        goto out;
    if (d == NULL) {
        rc = create(t, e, v, h, &d);
    } else {
        /* Keep what an earlier event told and this one does not. */
        for (int f = F_RTAG; f <= F_RURI; f++) {
            if (v[f][0] == '\0')
                v[f] = field(d, f);
        }
        rc = restring(t, &d, v, h);
    }
    if (rc != 0)
        goto out;
    d->state = e->state;
    d->code = e->code;
    d->changed_ms = e->now_ms;
    sk_dlist_remove(&d->in_ended);
    if (d->state == SK_DLG_TERMINATED)
        sk_dlist_push_back(&t->ended, &d->in_ended);
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int sk_dlgtrack_build(struct sk_dlgtrack *t, const char *aor, uint32_t version, struct sk_buf *out)
{
    struct sk_vec list;
    struct sk_dialog_info di;
    char entity[SK_LOC_AOR_MAX + 8];
    struct aor *a;
    int rc = 0;

    sk_vec_init(&list, sizeof(struct sk_dialog_info_dialog));
    snprintf(entity, sizeof(entity), "sip:%s", aor);
    pthread_mutex_lock(&t->lock);
    a = find_aor(t, aor, sk_hash(aor, strlen(aor)));
    for (struct sk_dlist *l = a != NULL ? sk_dlist_first(&a->dialogs) : NULL; l != NULL;
         l = sk_dlist_next(&a->dialogs, l)) {
        const struct dlg *d = SK_CONTAINER_OF(l, struct dlg, in_aor);
        struct sk_dialog_info_dialog *x = sk_vec_push(&list);
        if (x == NULL) {
            rc = SK_ENOMEM;
            break;
        }
        *x = (struct sk_dialog_info_dialog){
            d->id,    field(d, F_CALLID), field(d, F_LTAG), field(d, F_RTAG), d->initiator,
            d->state, field(d, F_EVENT),  d->code,          field(d, F_LURI), field(d, F_RURI),
        };
    }
    if (rc == 0) {
        di = (struct sk_dialog_info){entity, version, true, list.p, list.len};
        sk_ev_dialog_info_build(out, &di);
        rc = sk_buf_ok(out) ? (int)list.len : SK_ENOMEM;
    }
    pthread_mutex_unlock(&t->lock);
    sk_vec_free(&list);
    return rc;
}

/* The ended list is in update order; updates from several threads can
 * interleave their clocks by a few milliseconds, which only delays a
 * dialog behind a slightly newer one to the next purge. */
int sk_dlgtrack_purge(struct sk_dlgtrack *t, uint64_t before_ms)
{
    struct sk_dlist *l;
    int n = 0;

    pthread_mutex_lock(&t->lock);
    while ((l = sk_dlist_first(&t->ended)) != NULL) {
        struct dlg *d = SK_CONTAINER_OF(l, struct dlg, in_ended);
        if (d->changed_ms > before_ms)
            break;
        sk_dlist_remove(&d->in_ended);
        sk_dlist_remove(&d->in_aor);
        sk_htab_remove(&t->dialogs, &d->hnode);
        put_aor(t, d->aor);
        sk_free(d);
        n++;
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}
