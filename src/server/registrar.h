/*
 * The registrar's decisions that depend only on the REGISTER and the
 * configured bounds (RFC 3261 §10.3 step 6 and the 200 OK's Contact
 * list), apart from the server so unit tests drive them directly.
 *
 * Memory: struct sk__reg_contacts holds slices into the message it was
 * read from, valid while that message lives.
 */
#ifndef SK_SERVER_REGISTRAR_H
#define SK_SERVER_REGISTRAR_H

#include <sipkit/msg.h>
#include <sipkit/store.h>

/* Contacts one REGISTER may carry. */
#define SK__REG_MAX_CONTACTS 32

struct sk__reg_limits {
    uint32_t default_expires; /* neither expires parameter nor Expires header */
    uint32_t min_expires;     /* a non-zero expiry below it gets 423 */
    uint32_t max_expires;     /* a longer one is granted this long */
};

struct sk__reg_contacts {
    struct sk_location_contact c[SK__REG_MAX_CONTACTS];
    size_t n;
    bool star; /* Contact: * (remove every binding) */
};

/* §10.3 step 6: read every Contact of m with its expiry (expires
 * parameter, else the Expires header, else the default; capped at the
 * maximum), q-value, +sip.instance and reg-id. Returns 0; 423 when a
 * non-zero expiry is below the minimum (the response carries
 * Min-Expires); 400 with *why set for an invalid Expires, a malformed or
 * too long Contact, too many Contacts, or Contact: * that is not alone or
 * not with Expires: 0. */
unsigned sk__reg_read_contacts(const struct sk_msg *m, const struct sk__reg_limits *lim,
                               struct sk__reg_contacts *x, const char **why);

/* The 200 OK's Contact header fields (§10.3 step 8): every binding with
 * its remaining expires at now, its q-value, +sip.instance and reg-id. */
void sk__reg_write_contacts(struct sk_buf *out, const struct sk_binding *b, size_t n, int64_t now);

#endif
