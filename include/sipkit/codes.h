/*
 * sipkit codes layer: a catalog of every SIP response code in the IANA
 * "Response Codes" registry, with the reason phrase, class, the defining
 * RFC, and our own explanation for the person who received the response:
 * what it means, when it is seen, how to fix it, and what differs by
 * method. Codes that are not registered but lie in 100..699 are explained
 * by their class (RFC 3261 §8.1.3.2: an unknown code is treated as the x00
 * code of its class).
 *
 * Users: `sipkit explain`, the client commands (one line per response in
 * their ladder output), and the server (default reason phrases).
 *
 * Memory: everything returned points into read-only static tables; nothing
 * is allocated and nothing needs freeing, except text written into a
 * caller-owned sk_buf by sk_code_format_line().
 *
 * Threads: no mutable state; every function may be called from any thread.
 */
#ifndef SIPKIT_CODES_H
#define SIPKIT_CODES_H

#include <sipkit/base.h>

/* The lowest and highest codes a SIP status line may carry (RFC 3261 §7.2:
 * three digits, the first one 1..6). */
#define SK_CODE_MIN 100
#define SK_CODE_MAX 699

/* Who usually produces a response (bits of sk_code_info.sent_by). */
enum sk_code_origin {
    SK_CODE_BY_UAS = 1u << 0,       /* the called user agent (phone, PBX, gateway) */
    SK_CODE_BY_PROXY = 1u << 1,     /* a proxy on the path */
    SK_CODE_BY_REGISTRAR = 1u << 2, /* a registrar answering REGISTER */
    SK_CODE_BY_LOCAL = 1u << 3,     /* the client's own stack (timeout, transport error) */
};

/* What the sender of the request can do about the response. */
enum sk_code_retry {
    SK_CODE_RETRY_NONE = 0, /* not a failure: nothing to retry */
    SK_CODE_RETRY_FIX,      /* resend at once after changing the request as the response asks */
    SK_CODE_RETRY_REDIRECT, /* send the request to the target(s) the response names */
    SK_CODE_RETRY_LATER,    /* the same request may succeed later (see Retry-After) */
    SK_CODE_RETRY_NEVER,    /* do not resend as is: the condition will not clear by itself */
};

/* A note about how one method (or one situation) sees this code. */
struct sk_code_note {
    const char *method; /* "INVITE", "REGISTER", ... or a short situation label */
    const char *text;
};

#define SK_CODE_MAX_NOTES 5

/* One registered response code. Texts are single-line UTF-8 sentences,
 * ASCII apart from the section sign in citations ("RFC 3261 §14.1");
 * callers wrap them. Unused notes have method == NULL. */
struct sk_code_info {
    unsigned code;
    const char *phrase;      /* reason phrase exactly as in the IANA registry */
    const char *wire_phrase; /* phrase to put on the wire when it differs, else NULL */
    const char *rfc;         /* the registry's reference, e.g. "RFC3261" */
    const char *section;     /* where the code is defined, e.g. "RFC 3261 §21.4.2" */
    const char *related;     /* other RFCs that give it meaning, or NULL */
    unsigned sent_by;        /* SK_CODE_BY_* bits */
    enum sk_code_retry retry;
    const char *headers; /* headers that matter for it, comma-separated, or NULL */
    const char *summary; /* one line (at most 64 characters), no final period */
    const char *meaning; /* what it means */
    const char *when;    /* when you see it in practice */
    const char *fix;     /* what to do about it */
    struct sk_code_note notes[SK_CODE_MAX_NOTES];
};

/* One response class (1xx..6xx), used for codes not in the registry. */
struct sk_code_class {
    unsigned digit;     /* 1..6 */
    const char *label;  /* "4xx" */
    const char *name;   /* "Client Failure" */
    const char *phrase; /* reason phrase for unregistered codes of this class */
    const char *summary;
    const char *meaning;
    const char *when;
    const char *fix;
};

/* True for 100..699, the codes a status line may carry. */
bool sk_code_valid(unsigned code);

/* The registered code, or NULL if `code` is not in the registry. */
const struct sk_code_info *sk_code_lookup(unsigned code);

/* The class of any code in 100..699 (registered or not), else NULL. */
const struct sk_code_class *sk_code_class_of(unsigned code);

/* The reason phrase to send with `code`: the registered phrase, the class
 * phrase for an unregistered code in 100..699, "Unknown" otherwise. Never
 * NULL. */
const char *sk_code_phrase(unsigned code);

/* A one-line explanation (no final period) for ladder output: the entry's
 * summary, or the class summary, or a fixed text for non-codes. Never NULL. */
const char *sk_code_summary(unsigned code);

/* Append "CODE Phrase: summary" to `out` (no newline). Returns 0 or
 * SK_ENOMEM if the buffer failed. */
int sk_code_format_line(struct sk_buf *out, unsigned code);

/* Iteration in ascending code order: sk_code_at(i) for i < sk_code_count();
 * NULL past the end. */
size_t sk_code_count(void);
const struct sk_code_info *sk_code_at(size_t i);

/* Hand-written guidance on telling two codes apart and when to use which,
 * for well-known pairs (either order), or NULL. */
const char *sk_code_pair_note(unsigned a, unsigned b);

/* Short name of a retry kind ("fix-and-resend", ...) and a sentence. */
const char *sk_code_retry_name(enum sk_code_retry r);
const char *sk_code_retry_text(enum sk_code_retry r);

/* Name of one SK_CODE_BY_* bit ("UAS", "proxy", ...), or NULL. */
const char *sk_code_origin_name(unsigned bit);

#endif
