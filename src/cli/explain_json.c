/*
 * `sipkit explain --json`: the catalog as JSON for tools. One code gives an
 * object; two codes give {"codes": [a, b], "differences": [...],
 * "guidance": ..., "guidance_source": "hand-written" | "generated"};
 * --list gives {"count": N, "codes": [...]}. Output is pretty-printed with
 * one key per line. Strings are escaped per RFC 8259 §7 (quote, backslash
 * and control characters); UTF-8 passes through unchanged.
 *
 * Memory: the document is built in one sk_buf, written, then freed.
 */
#include "cli/explain.h"

#include <string.h>

static void indent(struct sk_buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        sk_buf_append_cstr(b, "  ");
}

static void str(struct sk_buf *b, const char *s)
{
    if (s == NULL) {
        sk_buf_append_cstr(b, "null");
        return;
    }
    sk_buf_append_cstr(b, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            sk_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            sk_buf_append_cstr(b, "\\n");
        else if (c == '\t')
            sk_buf_append_cstr(b, "\\t");
        else if (c < 0x20)
            sk_buf_printf(b, "\\u%04x", c);
        else
            sk_buf_append(b, s, 1);
    }
    sk_buf_append_cstr(b, "\"");
}

/* "key": value-as-string, with the comma for every key but the first. */
static void key(struct sk_buf *b, int depth, bool *first, const char *k)
{
    sk_buf_append_cstr(b, *first ? "\n" : ",\n");
    *first = false;
    indent(b, depth);
    str(b, k);
    sk_buf_append_cstr(b, ": ");
}

static void key_str(struct sk_buf *b, int depth, bool *first, const char *k, const char *v)
{
    key(b, depth, first, k);
    str(b, v);
}

static void sent_by(struct sk_buf *b, unsigned bits)
{
    bool any = false;

    sk_buf_append_cstr(b, "[");
    for (unsigned bit = 1; bit <= SK_CODE_BY_LOCAL; bit <<= 1) {
        if ((bits & bit) == 0)
            continue;
        sk_buf_append_cstr(b, any ? ", " : "");
        str(b, sk_code_origin_name(bit));
        any = true;
    }
    sk_buf_append_cstr(b, "]");
}

static void notes(struct sk_buf *b, int depth, const struct sk_code_info *e)
{
    bool any = false;

    sk_buf_append_cstr(b, "[");
    for (size_t i = 0; e != NULL && i < SK_CODE_MAX_NOTES && e->notes[i].method != NULL; i++) {
        bool first = true;

        sk_buf_append_cstr(b, any ? ",\n" : "\n");
        indent(b, depth + 1);
        sk_buf_append_cstr(b, "{");
        key_str(b, depth + 2, &first, "method", e->notes[i].method);
        key_str(b, depth + 2, &first, "text", e->notes[i].text);
        sk_buf_append_cstr(b, "\n");
        indent(b, depth + 1);
        sk_buf_append_cstr(b, "}");
        any = true;
    }
    if (any) {
        sk_buf_append_cstr(b, "\n");
        indent(b, depth);
    }
    sk_buf_append_cstr(b, "]");
}

static void code_object(struct sk_buf *b, int depth, const struct sk_explain_view *v)
{
    const struct sk_code_info *e = v->e;
    bool first = true;

    sk_buf_append_cstr(b, "{");
    key(b, depth + 1, &first, "code");
    sk_buf_printf(b, "%u", v->code);
    key_str(b, depth + 1, &first, "phrase", v->phrase);
    key_str(b, depth + 1, &first, "wire_phrase", sk_code_phrase(v->code));
    key(b, depth + 1, &first, "registered");
    sk_buf_append_cstr(b, e != NULL ? "true" : "false");
    key_str(b, depth + 1, &first, "class", v->c->label);
    key_str(b, depth + 1, &first, "class_name", v->c->name);
    key_str(b, depth + 1, &first, "rfc", e != NULL ? e->rfc : NULL);
    key_str(b, depth + 1, &first, "section", e != NULL ? e->section : NULL);
    key_str(b, depth + 1, &first, "related", e != NULL ? e->related : NULL);
    key(b, depth + 1, &first, "sent_by");
    sent_by(b, e != NULL ? e->sent_by : 0);
    key_str(b, depth + 1, &first, "retry", e != NULL ? sk_code_retry_name(e->retry) : NULL);
    key_str(b, depth + 1, &first, "headers", e != NULL ? e->headers : NULL);
    key_str(b, depth + 1, &first, "summary", v->summary);
    key_str(b, depth + 1, &first, "meaning", v->meaning);
    key_str(b, depth + 1, &first, "when", v->when);
    key_str(b, depth + 1, &first, "fix", v->fix);
    key(b, depth + 1, &first, "notes");
    notes(b, depth + 1, e);
    sk_buf_append_cstr(b, "\n");
    indent(b, depth);
    sk_buf_append_cstr(b, "}");
}

/* The '\n'-separated sentences from sk__explain_differences as an array. */
static void sentences(struct sk_buf *b, int depth, const char *text)
{
    bool any = false;

    sk_buf_append_cstr(b, "[");
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
        char *one = sk_strndup(text, n);

        if (one == NULL) {
            b->failed = true;
            return;
        }
        sk_buf_append_cstr(b, any ? ",\n" : "\n");
        indent(b, depth + 1);
        str(b, one);
        sk_free(one);
        any = true;
        text += n + (nl != NULL);
    }
    sk_buf_append_cstr(b, "\n");
    indent(b, depth);
    sk_buf_append_cstr(b, "]");
}

static void comparison(struct sk_buf *b, const struct sk_explain_view *a,
                       const struct sk_explain_view *c)
{
    struct sk_buf diff, guide;
    bool first = true, hand;

    sk_buf_init(&diff);
    sk_buf_init(&guide);
    sk__explain_differences(&diff, a, c);
    hand = sk__explain_guidance(&guide, a, c);
    if (!sk_buf_ok(&diff) || !sk_buf_ok(&guide))
        b->failed = true;
    sk_buf_append_cstr(b, "{");
    key(b, 1, &first, "codes");
    sk_buf_append_cstr(b, "[\n");
    indent(b, 2);
    code_object(b, 2, a);
    sk_buf_append_cstr(b, ",\n");
    indent(b, 2);
    code_object(b, 2, c);
    sk_buf_append_cstr(b, "\n");
    indent(b, 1);
    sk_buf_append_cstr(b, "]");
    key(b, 1, &first, "differences");
    sentences(b, 1, diff.p != NULL ? diff.p : "");
    key_str(b, 1, &first, "guidance", guide.p != NULL ? guide.p : "");
    key_str(b, 1, &first, "guidance_source", hand ? "hand-written" : "generated");
    sk_buf_append_cstr(b, "\n}");
    sk_buf_free(&diff);
    sk_buf_free(&guide);
}

static int emit(FILE *out, struct sk_buf *b)
{
    int err = 0;

    sk_buf_append_cstr(b, "\n");
    if (!sk_buf_ok(b))
        err = SK_ENOMEM;
    else if (fwrite(b->p, 1, b->len, out) != b->len)
        err = SK_EIO;
    sk_buf_free(b);
    return err;
}

int sk__explain_json(FILE *out, const struct sk_explain_view *a, const struct sk_explain_view *b)
{
    struct sk_buf doc;

    sk_buf_init(&doc);
    if (b == NULL)
        code_object(&doc, 0, a);
    else
        comparison(&doc, a, b);
    return emit(out, &doc);
}

int sk__explain_json_list(FILE *out)
{
    struct sk_buf doc;
    bool first = true;

    sk_buf_init(&doc);
    sk_buf_append_cstr(&doc, "{");
    key(&doc, 1, &first, "count");
    sk_buf_printf(&doc, "%zu", sk_code_count());
    key(&doc, 1, &first, "codes");
    sk_buf_append_cstr(&doc, "[");
    for (size_t i = 0; i < sk_code_count(); i++) {
        struct sk_explain_view v;

        sk__explain_view(&v, sk_code_at(i)->code);
        sk_buf_append_cstr(&doc, i == 0 ? "\n" : ",\n");
        indent(&doc, 2);
        code_object(&doc, 2, &v);
    }
    sk_buf_append_cstr(&doc, "\n  ]\n}");
    return emit(out, &doc);
}
