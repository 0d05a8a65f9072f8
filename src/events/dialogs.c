/*
 * The dialog package's state (RFC 4235 §3.7.1): for each user, the INVITE
 * dialogs the proxy reported, each with its current state, kept until a
 * while after it terminated so every watcher's next notification shows
 * how it ended. Documents are always full state.
 *
 * Memory: one heap block per dialog with fixed-size strings, in a hash by
 * AOR; owned by the tracker. Threads: one mutex around the table.
 */
#include <sipkit/events.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NBUCKETS 1024

struct dlg {
    struct dlg *next;
    char aor[SK_LOC_AOR_MAX + 1];
    char call_id[SK_LOC_CALLID_MAX + 1];
    char local_tag[SK_SUB_TAG_MAX + 1];
    char remote_tag[SK_SUB_TAG_MAX + 1];
    char local_uri[SK_LOC_URI_MAX + 1];
    char remote_uri[SK_LOC_URI_MAX + 1];
    char event[32];
    char id[17];
    bool initiator;
    enum sk_dlg_state state;
    unsigned code;
    uint64_t changed_ms;
};

struct sk_dlgtrack {
    pthread_mutex_t lock;
    struct dlg *b[NBUCKETS];
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static uint32_t bucket(const char *aor)
{
    return (uint32_t)(fnv(1469598103934665603ull, aor) % NBUCKETS);
}

int sk_dlgtrack_new(struct sk_dlgtrack **out)
{
    struct sk_dlgtrack *t = sk_calloc(1, sizeof(*t));

    if (t == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void sk_dlgtrack_free(struct sk_dlgtrack *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (t->b[i] != NULL) {
            struct dlg *d = t->b[i];
            t->b[i] = d->next;
            sk_free(d);
        }
    }
    pthread_mutex_destroy(&t->lock);
    sk_free(t);
}

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static int copy(char *dst, size_t dstsz, const char *s)
{
    size_t n = strlen(str(s));

    if (n >= dstsz)
        return SK_ETOOBIG;
    memcpy(dst, str(s), n + 1);
    return 0;
}

#define COPY(field, s) copy((field), sizeof(field), (s))

/* The dialog tmp names in a bucket's chain: the same AOR, Call-ID and
 * local tag; else, for a tag seen for the first time, a live dialog of the
 * same call still without one, which takes the tag (RFC 4235 §3.7.1: the
 * callee's tag comes with its first response, after "trying"). */
static struct dlg *find(struct dlg *d, const struct dlg *tmp)
{
    struct dlg *untagged = NULL;

    for (; d != NULL; d = d->next) {
        if (strcmp(d->aor, tmp->aor) != 0 || strcmp(d->call_id, tmp->call_id) != 0)
            continue;
        if (strcmp(d->local_tag, tmp->local_tag) == 0)
            return d;
        if (d->local_tag[0] == '\0' && d->state != SK_DLG_TERMINATED && untagged == NULL)
            untagged = d;
    }
    if (untagged != NULL && tmp->local_tag[0] != '\0')
        memcpy(untagged->local_tag, tmp->local_tag, sizeof(untagged->local_tag));
    else
        untagged = NULL;
    return untagged;
}

int sk_dlgtrack_update(struct sk_dlgtrack *t, const struct sk_dlg_event *e)
{
    struct dlg tmp, *d;
    uint32_t h;
    int rc = 0;

    memset(&tmp, 0, sizeof(tmp));
    if (COPY(tmp.aor, e->aor) != 0 || COPY(tmp.call_id, e->call_id) != 0 ||
        COPY(tmp.local_tag, e->local_tag) != 0 || COPY(tmp.remote_tag, e->remote_tag) != 0 ||
        COPY(tmp.local_uri, e->local_uri) != 0 || COPY(tmp.remote_uri, e->remote_uri) != 0 ||
        COPY(tmp.event, e->event) != 0)
        return SK_ETOOBIG;
    h = bucket(tmp.aor);
    pthread_mutex_lock(&t->lock);
    d = find(t->b[h], &tmp);
    if (d == NULL && e->known_only)
        goto out;
    if (d == NULL) {
        d = sk_malloc(sizeof(*d));
        if (d == NULL) {
            rc = SK_ENOMEM;
            goto out;
        }
        *d = tmp;
        /* Who sent the INVITE is known when the dialog is first seen; a
         * later BYE from either side does not tell. */
        d->initiator = e->initiator;
        /* §4.1.2: the id only has to be unique in the document; a hash of
         * what identifies the dialog keeps it stable across updates. */
        uint64_t x = fnv(fnv(1469598103934665603ull, tmp.call_id), tmp.local_tag);
        snprintf(d->id, sizeof(d->id), "%016llx", (unsigned long long)x);
        d->next = t->b[h];
        t->b[h] = d;
    } else {
        /* Keep what an earlier event told and this one does not. */
        if (tmp.remote_tag[0] != '\0')
            memcpy(d->remote_tag, tmp.remote_tag, sizeof(d->remote_tag));
        if (tmp.local_uri[0] != '\0')
            memcpy(d->local_uri, tmp.local_uri, sizeof(d->local_uri));
        if (tmp.remote_uri[0] != '\0')
            memcpy(d->remote_uri, tmp.remote_uri, sizeof(d->remote_uri));
        memcpy(d->event, tmp.event, sizeof(d->event));
    }
    d->state = e->state;
    d->code = e->code;
    d->changed_ms = e->now_ms;
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int sk_dlgtrack_build(struct sk_dlgtrack *t, const char *aor, uint32_t version, struct sk_buf *out)
{
    struct sk_dialog_info_dialog *list = NULL;
    struct sk_dialog_info di;
    char entity[SK_LOC_AOR_MAX + 8];
    size_t n = 0, cap = 0;
    int rc = 0;

    snprintf(entity, sizeof(entity), "sip:%s", aor);
    pthread_mutex_lock(&t->lock);
    for (struct dlg *d = t->b[bucket(aor)]; d != NULL; d = d->next) {
        if (strcmp(d->aor, aor) != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap == 0 ? 8 : cap * 2;
            struct sk_dialog_info_dialog *p = sk_realloc(list, ncap * sizeof(*p));
            if (p == NULL) {
                rc = SK_ENOMEM;
                break;
            }
            list = p;
            cap = ncap;
        }
        list[n++] = (struct sk_dialog_info_dialog){
            d->id,    d->call_id, d->local_tag, d->remote_tag, d->initiator,
            d->state, d->event,   d->code,      d->local_uri,  d->remote_uri,
        };
    }
    if (rc == 0) {
        di = (struct sk_dialog_info){entity, version, true, list, n};
        sk_ev_dialog_info_build(out, &di);
        rc = sk_buf_ok(out) ? (int)n : SK_ENOMEM;
    }
    pthread_mutex_unlock(&t->lock);
    sk_free(list);
    return rc;
}

int sk_dlgtrack_purge(struct sk_dlgtrack *t, uint64_t before_ms)
{
    int n = 0;

    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < NBUCKETS; i++) {
        struct dlg **pp = &t->b[i];
        while (*pp != NULL) {
            struct dlg *d = *pp;
            if (d->state == SK_DLG_TERMINATED && d->changed_ms <= before_ms) {
                *pp = d->next;
                sk_free(d);
                n++;
            } else {
                pp = &d->next;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}
