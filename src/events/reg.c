/*
 * The "reg" package's view of a registration change (RFC 3680 §5.1): given
 * an AOR's bindings before and after a change, which contacts were
 * registered, refreshed, expired or unregistered.
 *
 * Contacts are the same binding when RFC 5626 §4.2 says so (same
 * +sip.instance and reg-id) or, without an instance, when their URIs are
 * equal byte for byte (the location service already decided equality per
 * RFC 3261 §19.1.4 when it stored them). A contact's id is a hash of that
 * identity, so it stays the same across notifications (§5.3: "id").
 *
 * Memory: output entries point into the caller's binding arrays and ids
 * buffer; nothing is allocated.
 */
#include <sipkit/containers.h>
#include <sipkit/events.h>

#include <string.h>

static bool same_binding(const struct sk_binding *a, const struct sk_binding *b)
{
    if (a->instance[0] != '\0' || b->instance[0] != '\0')
        return strcmp(a->instance, b->instance) == 0 && a->reg_id == b->reg_id;
    return strcmp(a->contact, b->contact) == 0;
}

static void contact_id(const struct sk_binding *b, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    const char *key = b->instance[0] != '\0' ? b->instance : b->contact;
    struct sk_hasher hs;
    uint64_t h;

    /* RFC 3680 §5.3: a contact keeps its id, restarts included. */
    sk_hasher_init_stable(&hs);
    sk_hasher_cstr(&hs, key);
    sk_hasher_u64(&hs, (uint64_t)b->reg_id);
    h = sk_hasher_end(&hs);
    for (int i = 15; i >= 0; i--, h >>= 4)
        out[i] = hex[h & 15];
    out[16] = '\0';
}

static void fill(struct sk_reginfo_contact *c, char id[17], const struct sk_binding *b, bool active,
                 enum sk_reg_event ev, int64_t now)
{
    contact_id(b, id);
    c->id = id;
    c->uri = b->contact;
    c->active = active;
    c->event = ev;
    c->expires = active ? sk_binding_remaining(b, now) : 0;
    c->q = b->q;
    c->call_id = b->call_id;
    c->cseq = b->cseq;
}

size_t sk_ev_reg_diff(const struct sk_binding *old, size_t nold, const struct sk_binding *cur,
                      size_t ncur, int64_t now, bool with_unchanged, struct sk_reginfo_contact *out,
                      char (*ids)[17], size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < ncur && n < max; i++) {
        const struct sk_binding *prev = NULL;
        enum sk_reg_event ev = SK_REG_EV_REGISTERED;

        for (size_t j = 0; j < nold && prev == NULL; j++) {
            if (same_binding(&cur[i], &old[j]))
                prev = &old[j];
        }
        if (prev != NULL) {
            bool moved = prev->expires_at != cur[i].expires_at || prev->cseq != cur[i].cseq ||
                         strcmp(prev->call_id, cur[i].call_id) != 0;
            if (!moved && !with_unchanged)
                continue;
            /* §5.1: a REGISTER that refreshes a contact is "refreshed",
             * whether it lengthened or shortened the expiry ("shortened"
             * is for the registrar's own decisions). */
            if (moved)
                ev = SK_REG_EV_REFRESHED;
        }
        fill(&out[n], ids[n], &cur[i], true, ev, now);
        n++;
    }
    for (size_t j = 0; j < nold && n < max; j++) {
        bool still = false;

        for (size_t i = 0; i < ncur && !still; i++)
            still = same_binding(&cur[i], &old[j]);
        if (still)
            continue;
        fill(&out[n], ids[n], &old[j], false,
             old[j].expires_at <= now ? SK_REG_EV_EXPIRED : SK_REG_EV_UNREGISTERED, now);
        n++;
    }
    return n;
}
