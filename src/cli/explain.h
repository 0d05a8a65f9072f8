/*
 * Private to `sipkit explain` (cmd_explain.c, explain_compare.c,
 * explain_json.c): the view of one code, registered or explained by its
 * class, and the helpers the text, comparison and JSON outputs share.
 */
#ifndef SK_CLI_EXPLAIN_H
#define SK_CLI_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include <sipkit/base.h>
#include <sipkit/codes.h>

/* One code as explained: the registry entry if any, else its class. */
struct sk_explain_view {
    unsigned code;
    const struct sk_code_info *e;  /* NULL for an unregistered code */
    const struct sk_code_class *c; /* never NULL */
    const char *phrase;            /* registry phrase, or the class phrase */
    const char *summary, *meaning, *when, *fix;
};

/* Fill `v` for a code in 100..699. */
void sk__explain_view(struct sk_explain_view *v, unsigned code);

/* Append "UAS, proxy" style names of SK_CODE_BY_* bits ("-" if none). */
void sk__explain_origins(struct sk_buf *b, unsigned bits);

/* Columns taken by n bytes of UTF-8 text. */
size_t sk__explain_text_width(const char *p, size_t n);

/* Take the next line of at most `width` columns from *cur, breaking at
 * spaces. Returns false at the end of the text. */
bool sk__explain_next_line(const char **cur, size_t width, struct sk_slice *line);

/* Append the key differences between a and b, one sentence per line
 * (separated by '\n', no trailing newline). */
void sk__explain_differences(struct sk_buf *out, const struct sk_explain_view *a,
                             const struct sk_explain_view *b);

/* Append guidance on when to use which. Returns true if it is the
 * hand-written note for the pair, false if generated from the entries. */
bool sk__explain_guidance(struct sk_buf *out, const struct sk_explain_view *a,
                          const struct sk_explain_view *b);

/* JSON output: one code (b == NULL) or a comparison; the whole list.
 * Return 0 or SK_ENOMEM. */
int sk__explain_json(FILE *out, const struct sk_explain_view *a, const struct sk_explain_view *b);
int sk__explain_json_list(FILE *out);

#endif
