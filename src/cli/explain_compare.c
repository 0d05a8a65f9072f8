/*
 * `sipkit explain A B`: the key differences between two codes, derived from
 * their catalog entries (class, who sends them, what a retry can do, the
 * headers involved, registration), and the guidance on when to use which:
 * the hand-written note for well-known pairs (sk_code_pair_note), else a
 * summary built from the entries.
 *
 * The class contrasts restate RFC 3261 §21 and §16.7 (6xx ends forking;
 * 4xx lets other branches go on; 5xx points at the server).
 *
 * Memory: writes into caller-owned sk_bufs.
 */
#include "cli/explain.h"

#include <string.h>

/* One sentence contrasting two different classes (digits lo < hi). */
static const char *class_contrast(unsigned lo, unsigned hi)
{
    if (lo == 1)
        return hi == 2 ? "1xx is provisional and the transaction goes on; 2xx is the final, "
                         "successful answer."
                       : "1xx is provisional and the transaction goes on; the other is a final "
                         "response that ends it.";
    if (lo == 2)
        return "2xx means the request took effect; the other is a final response saying it "
               "did not.";
    if (lo == 3)
        return "3xx names new targets to try (Contact); the other is a failure with no new "
               "target.";
    if (lo == 4 && hi == 5)
        return "4xx puts the problem in the request or the target; 5xx puts it in the server, "
               "so another server for the domain may succeed.";
    if (lo == 4)
        return "4xx ends only this branch, so a forking proxy may still succeed elsewhere; 6xx "
               "is a global answer that stops every branch.";
    return "5xx is a problem of this server that another server may not have; 6xx is a "
           "definitive answer about the user that stops every branch.";
}

static void line(struct sk_buf *out, bool *first)
{
    if (!*first)
        sk_buf_append_cstr(out, "\n");
    *first = false;
}

static void diff_class(struct sk_buf *out, const struct sk_explain_view *a,
                       const struct sk_explain_view *b, bool *first)
{
    unsigned da = a->c->digit, db = b->c->digit;

    line(out, first);
    if (da == db) {
        sk_buf_printf(out, "Both are %s (%s) responses.", a->c->label, a->c->name);
        return;
    }
    sk_buf_printf(out, "%u is a %s (%s) response, %u a %s (%s) one. %s", a->code, a->c->label,
                  a->c->name, b->code, b->c->label, b->c->name,
                  class_contrast(da < db ? da : db, da < db ? db : da));
}

static void diff_origin(struct sk_buf *out, const struct sk_code_info *ea,
                        const struct sk_code_info *eb, bool *first)
{
    line(out, first);
    if (ea->sent_by == eb->sent_by) {
        sk_buf_append_cstr(out, "Both usually come from: ");
        sk__explain_origins(out, ea->sent_by);
        sk_buf_append_cstr(out, ".");
        return;
    }
    sk_buf_printf(out, "%u usually comes from: ", ea->code);
    sk__explain_origins(out, ea->sent_by);
    sk_buf_printf(out, "; %u from: ", eb->code);
    sk__explain_origins(out, eb->sent_by);
    sk_buf_append_cstr(out, ".");
}

static void diff_retry(struct sk_buf *out, const struct sk_code_info *ea,
                       const struct sk_code_info *eb, bool *first)
{
    line(out, first);
    if (ea->retry == SK_CODE_RETRY_NONE && eb->retry == SK_CODE_RETRY_NONE) {
        sk_buf_append_cstr(out, "Neither is a failure: there is nothing to retry.");
        return;
    }
    if (ea->retry == eb->retry) {
        sk_buf_printf(out, "What to do is alike (%s): %s.", sk_code_retry_name(ea->retry),
                      sk_code_retry_text(ea->retry));
        return;
    }
    sk_buf_printf(out, "After %u: %s (%s). After %u: %s (%s).", ea->code,
                  sk_code_retry_name(ea->retry), sk_code_retry_text(ea->retry), eb->code,
                  sk_code_retry_name(eb->retry), sk_code_retry_text(eb->retry));
}

static void diff_headers(struct sk_buf *out, const struct sk_code_info *ea,
                         const struct sk_code_info *eb, bool *first)
{
    const char *ha = ea->headers, *hb = eb->headers;

    if (ha == NULL && hb == NULL)
        return;
    line(out, first);
    if (ha != NULL && hb != NULL && strcmp(ha, hb) == 0)
        sk_buf_printf(out, "Both involve %s.", ha);
    else if (ha != NULL && hb != NULL)
        sk_buf_printf(out, "%u involves %s; %u involves %s.", ea->code, ha, eb->code, hb);
    else
        sk_buf_printf(out, "%u involves %s; %u needs no particular header.",
                      ha != NULL ? ea->code : eb->code, ha != NULL ? ha : hb,
                      ha != NULL ? eb->code : ea->code);
}

static void diff_unregistered(struct sk_buf *out, const struct sk_explain_view *v, bool *first)
{
    line(out, first);
    sk_buf_printf(out,
                  "%u is not registered with IANA: only its class is known, and a UA that "
                  "does not know it handles it like %u00.",
                  v->code, v->c->digit);
}

void sk__explain_differences(struct sk_buf *out, const struct sk_explain_view *a,
                             const struct sk_explain_view *b)
{
    bool first = true;

    if (a->code == b->code) {
        sk_buf_append_cstr(out, "Both are the same code.");
        return;
    }
    diff_class(out, a, b, &first);
    if (a->e == NULL)
        diff_unregistered(out, a, &first);
    if (b->e == NULL)
        diff_unregistered(out, b, &first);
    if (a->e == NULL || b->e == NULL)
        return;
    diff_origin(out, a->e, b->e, &first);
    diff_retry(out, a->e, b->e, &first);
    diff_headers(out, a->e, b->e, &first);
}

bool sk__explain_guidance(struct sk_buf *out, const struct sk_explain_view *a,
                          const struct sk_explain_view *b)
{
    const char *note = sk_code_pair_note(a->code, b->code);

    if (note != NULL) {
        sk_buf_append_cstr(out, note);
        return true;
    }
    if (a->code == b->code) {
        sk_buf_append_cstr(out, "Nothing to choose: it is the same code.");
        return false;
    }
    sk_buf_printf(out, "%u %s: %s. %u %s: %s.", a->code, a->phrase, a->summary, b->code, b->phrase,
                  b->summary);
    sk_buf_append_cstr(out, " Use the one whose meaning and usual situation match yours.");
    return false;
}
