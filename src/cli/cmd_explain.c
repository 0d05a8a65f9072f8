/*
 * `sipkit explain`: what a SIP response code means and what to do about it.
 *
 *   sipkit explain CODE         one code: phrase, class, RFC, meaning, when
 *                               seen, how to fix, method notes
 *   sipkit explain CODE CODE    two codes side by side, their differences
 *                               and when to use which
 *   sipkit explain --list       every registered code, one line each
 *   --json                      the same as JSON, for tools
 *
 * Codes are three digits, 100..699 (RFC 3261 §7.2). Unregistered codes in
 * that range are explained by their class (RFC 3261 §8.1.3.2); anything
 * else is a usage error (exit 2). The texts come from the codes layer
 * (include/sipkit/codes.h); this file only lays them out: wrapped to the
 * terminal width (at most 100 columns unless --width says otherwise).
 *
 * Memory: everything printed is static catalog text, except the generated
 * comparison sentences, built in an sk_buf and freed before returning.
 */
#include "cli/cli.h"
#include "cli/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define LABEL_COL      14 /* "  Label       " */
#define DEFAULT_WIDTH  80
#define MAX_AUTO_WIDTH 100

/* ---- text layout ----------------------------------------------------- */

size_t sk__explain_text_width(const char *p, size_t n)
{
    size_t w = 0;

    /* UTF-8 continuation bytes (10xxxxxx) take no column of their own. */
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)p[i] & 0xC0) != 0x80;
    return w;
}

bool sk__explain_next_line(const char **cur, size_t width, struct sk_slice *line)
{
    const char *p = *cur, *start, *end;
    size_t used = 0;

    while (*p == ' ')
        p++;
    if (*p == '\0') {
        *cur = p;
        return false;
    }
    start = end = p;
    for (;;) {
        const char *word = p;
        size_t ww, need;

        while (*p != '\0' && *p != ' ')
            p++;
        ww = sk__explain_text_width(word, (size_t)(p - word));
        need = end == start ? ww : used + 1 + ww;
        /* A word longer than the line is taken whole rather than split. */
        if (end != start && need > width)
            break;
        used = need;
        end = p;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
    }
    *line = sk_slice_make(start, (size_t)(end - start));
    *cur = end;
    return true;
}

static void spaces(FILE *out, size_t n)
{
    while (n-- > 0)
        fputc(' ', out);
}

/* Print text wrapped to `width`, the cursor being at column `col` for the
 * first line; later lines are indented to `col`. Ends the last line. */
static void wrap_at(FILE *out, const char *text, size_t col, size_t width)
{
    struct sk_slice line;
    size_t room = width > col + 20 ? width - col : 20;
    bool first = true;

    while (sk__explain_next_line(&text, room, &line)) {
        if (!first)
            spaces(out, col);
        fwrite(line.p, 1, line.len, out);
        fputc('\n', out);
        first = false;
    }
    if (first)
        fputc('\n', out);
}

static void field(FILE *out, const char *label, const char *text, size_t width)
{
    size_t n = strlen(label);

    fprintf(out, "  %s", label);
    if (n + 2 >= LABEL_COL) {
        fputc('\n', out);
        spaces(out, LABEL_COL);
    } else {
        spaces(out, LABEL_COL - 2 - n);
    }
    wrap_at(out, text != NULL ? text : "-", LABEL_COL, width);
}

static void paragraph(FILE *out, const char *title, const char *text, size_t width)
{
    fprintf(out, "\n%s\n  ", title);
    wrap_at(out, text, 2, width);
}

/* ---- the view of one code, registered or not ---------------------------- */

void sk__explain_view(struct sk_explain_view *v, unsigned code)
{
    memset(v, 0, sizeof(*v));
    v->code = code;
    v->e = sk_code_lookup(code);
    v->c = sk_code_class_of(code);
    v->phrase = sk_code_phrase(code);
    v->summary = sk_code_summary(code);
    if (v->e != NULL) {
        v->phrase = v->e->phrase;
        v->meaning = v->e->meaning;
        v->when = v->e->when;
        v->fix = v->e->fix;
    } else {
        v->meaning = v->c->meaning;
        v->when = v->c->when;
        v->fix = v->c->fix;
    }
}

void sk__explain_origins(struct sk_buf *b, unsigned bits)
{
    bool any = false;

    for (unsigned bit = 1; bit <= SK_CODE_BY_LOCAL; bit <<= 1) {
        if ((bits & bit) == 0)
            continue;
        sk_buf_printf(b, "%s%s", any ? ", " : "", sk_code_origin_name(bit));
        any = true;
    }
    if (!any)
        sk_buf_append_cstr(b, "-");
}

static void class_line(struct sk_buf *b, const struct sk_explain_view *v)
{
    sk_buf_printf(b, "%s %s", v->c->label, v->c->name);
}

static void retry_line(struct sk_buf *b, const struct sk_explain_view *v)
{
    if (v->e == NULL) {
        sk_buf_printf(b, "a UA that does not know it handles it like %u00 (RFC 3261 §8.1.3.2)",
                      v->code / 100);
        return;
    }
    sk_buf_printf(b, "%s: %s", sk_code_retry_name(v->e->retry), sk_code_retry_text(v->e->retry));
}

/* ---- one code -------------------------------------------------------- */

static void print_one(FILE *out, const struct sk_explain_view *v, size_t width)
{
    const struct sk_code_info *e = v->e;
    struct sk_buf b;

    sk_buf_init(&b);
    if (e != NULL)
        fprintf(out, "%u %s\n  ", v->code, e->phrase);
    else
        fprintf(out, "%u (not registered with IANA)\n  ", v->code);
    wrap_at(out, v->summary, 2, width);
    fputc('\n', out);
    class_line(&b, v);
    field(out, "Class", b.p, width);
    if (e != NULL) {
        field(out, "Defined in", e->section, width);
        if (e->related != NULL)
            field(out, "See also", e->related, width);
        sk_buf_reset(&b);
        sk__explain_origins(&b, e->sent_by);
        field(out, "Sent by", b.p, width);
        field(out, "Headers", e->headers, width);
        if (e->wire_phrase != NULL)
            field(out, "On the wire", e->wire_phrase, width);
    } else {
        sk_buf_reset(&b);
        sk_buf_printf(&b,
                      "no: %u is not in the IANA SIP response-code registry, so it is "
                      "explained by its class",
                      v->code);
        field(out, "Registered", b.p, width);
    }
    sk_buf_reset(&b);
    retry_line(&b, v);
    field(out, e != NULL ? "Retry" : "Handling", b.p, width);
    sk_buf_free(&b);

    paragraph(out, "Meaning", v->meaning, width);
    paragraph(out, "When you see it", v->when, width);
    paragraph(out, "How to fix", v->fix, width);
    if (e != NULL && e->notes[0].method != NULL) {
        fprintf(out, "\nMethod notes\n");
        for (size_t i = 0; i < SK_CODE_MAX_NOTES && e->notes[i].method != NULL; i++)
            field(out, e->notes[i].method, e->notes[i].text, width);
    }
}

/* ---- two codes side by side ------------------------------------------ */

static void columns(FILE *out, const char *left, const char *right, size_t colw)
{
    struct sk_slice ls, rs;
    bool lmore = true, rmore = true;

    for (;;) {
        size_t lw = 0;

        lmore = lmore && sk__explain_next_line(&left, colw, &ls);
        rmore = rmore && sk__explain_next_line(&right, colw, &rs);
        if (!lmore && !rmore)
            break;
        if (lmore) {
            fwrite(ls.p, 1, ls.len, out);
            lw = sk__explain_text_width(ls.p, ls.len);
        }
        spaces(out, colw > lw ? colw - lw : 0);
        if (rmore) {
            fputs(" | ", out);
            fwrite(rs.p, 1, rs.len, out);
        } else {
            fputs(" |", out);
        }
        fputc('\n', out);
    }
}

static void rule(FILE *out, const char *title, size_t width)
{
    size_t n = 0;

    if (title != NULL) {
        fprintf(out, "== %s ", title);
        n = strlen(title) + 4;
    }
    while (n++ < width)
        fputc('=', out);
    fputc('\n', out);
}

/* One section of the comparison: a title rule, then both texts. */
static void compare_row(FILE *out, const char *title, const char *l, const char *r, size_t width)
{
    rule(out, title, width);
    columns(out, l != NULL ? l : "-", r != NULL ? r : "-", (width - 3) / 2);
}

static void compare_field(FILE *out, const char *title, const struct sk_explain_view *a,
                          const struct sk_explain_view *b, size_t width,
                          void (*fmt)(struct sk_buf *, const struct sk_explain_view *))
{
    struct sk_buf la, lb;

    sk_buf_init(&la);
    sk_buf_init(&lb);
    fmt(&la, a);
    fmt(&lb, b);
    compare_row(out, title, la.p, lb.p, width);
    sk_buf_free(&la);
    sk_buf_free(&lb);
}

static void fmt_title(struct sk_buf *b, const struct sk_explain_view *v)
{
    if (v->e != NULL)
        sk_buf_printf(b, "%u %s", v->code, v->e->phrase);
    else
        sk_buf_printf(b, "%u (unregistered %s)", v->code, v->c->label);
}

static void fmt_defined(struct sk_buf *b, const struct sk_explain_view *v)
{
    sk_buf_append_cstr(b, v->e != NULL ? v->e->section : "not registered");
}

static void fmt_sent_by(struct sk_buf *b, const struct sk_explain_view *v)
{
    if (v->e != NULL)
        sk__explain_origins(b, v->e->sent_by);
    else
        sk_buf_append_cstr(b, "-");
}

static void fmt_headers(struct sk_buf *b, const struct sk_explain_view *v)
{
    sk_buf_append_cstr(b, v->e != NULL && v->e->headers != NULL ? v->e->headers : "-");
}

static void print_bullets(FILE *out, const char *text, size_t width)
{
    /* Sentences are separated by '\n' in the generated text. */
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
        char *one = sk_strndup(text, n);

        if (one == NULL)
            return;
        fputs("  - ", out);
        wrap_at(out, one, 4, width);
        sk_free(one);
        text += n + (nl != NULL);
    }
}

static int print_two(FILE *out, const struct sk_explain_view *a, const struct sk_explain_view *b,
                     size_t width)
{
    struct sk_buf diff, guide;
    bool hand;
    int err = 0;

    sk_buf_init(&diff);
    sk_buf_init(&guide);
    sk__explain_differences(&diff, a, b);
    hand = sk__explain_guidance(&guide, a, b);
    if (!sk_buf_ok(&diff) || !sk_buf_ok(&guide)) {
        err = SK_ENOMEM;
        goto out;
    }
    {
        struct sk_buf ta, tb;

        sk_buf_init(&ta);
        sk_buf_init(&tb);
        fmt_title(&ta, a);
        fmt_title(&tb, b);
        columns(out, ta.p, tb.p, (width - 3) / 2);
        sk_buf_free(&ta);
        sk_buf_free(&tb);
    }
    compare_field(out, "Class", a, b, width, class_line);
    compare_row(out, "In short", a->summary, b->summary, width);
    compare_field(out, "Defined in", a, b, width, fmt_defined);
    compare_field(out, "Sent by", a, b, width, fmt_sent_by);
    compare_field(out, "Headers", a, b, width, fmt_headers);
    compare_field(out, "Retry", a, b, width, retry_line);
    compare_row(out, "Meaning", a->meaning, b->meaning, width);
    compare_row(out, "When you see it", a->when, b->when, width);
    compare_row(out, "How to fix", a->fix, b->fix, width);
    rule(out, "Key differences", width);
    print_bullets(out, diff.p, width);
    rule(out, hand ? "When to use which" : "When to use which (from the catalog)", width);
    fputs("  ", out);
    wrap_at(out, guide.p, 2, width);
out:
    sk_buf_free(&diff);
    sk_buf_free(&guide);
    return err;
}

/* ---- the list -------------------------------------------------------- */

#define LIST_PHRASE_COL 31
/* Below this width the summary goes on its own line under the phrase. */
#define LIST_TABLE_WIDTH 100

static void print_list(FILE *out, size_t width)
{
    unsigned cls = 0;
    bool table = width >= LIST_TABLE_WIDTH;
    const size_t col = table ? 2 + 3 + 2 + LIST_PHRASE_COL + 2 : 7;

    for (size_t i = 0; i < sk_code_count(); i++) {
        const struct sk_code_info *e = sk_code_at(i);
        size_t n = strlen(e->phrase);

        if (e->code / 100 != cls) {
            const struct sk_code_class *c = sk_code_class_of(e->code);

            cls = e->code / 100;
            fprintf(out, "%s%s %s\n", cls == 1 ? "" : "\n", c->label, c->name);
        }
        fprintf(out, "  %u  %s", e->code, e->phrase);
        if (!table || n > LIST_PHRASE_COL) {
            fputc('\n', out);
            spaces(out, col);
        } else {
            spaces(out, LIST_PHRASE_COL + 2 - n);
        }
        wrap_at(out, e->summary, col, width);
    }
    fprintf(out, "\n%zu registered codes. 'sipkit explain CODE' for details.\n", sk_code_count());
}

/* ---- command line ---------------------------------------------------- */

static void usage(FILE *out)
{
    fputs("usage: sipkit explain [--json] [--width N] CODE [CODE]\n"
          "       sipkit explain [--json] --list\n"
          "\n"
          "Explain SIP response codes: what a code means, when you see it, how to fix\n"
          "it, with method-specific notes. Two codes are shown side by side with their\n"
          "key differences and when to use which.\n"
          "\n"
          "  CODE        a three-digit response code, 100..699; codes not registered\n"
          "              with IANA (e.g. 499) are explained by their class\n"
          "  --list      list every registered code with a one-line summary\n"
          "  --json      print JSON instead of text\n"
          "  --width N   wrap text at N columns (40..200; default: the terminal's\n"
          "              width up to 100, or 80)\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 on success, 2 when an argument is not a response code.\n",
          out);
}

/* Parse a response code argument; on failure say why in `why`. */
static int parse_code(const char *s, unsigned *out, char *why, size_t whysz)
{
    size_t n = strlen(s);
    uint64_t v;

    if (n == 0) {
        snprintf(why, whysz, "empty argument: expected a response code such as 404");
        return -1;
    }
    if (strspn(s, "0123456789") != n) {
        snprintf(why, whysz, "'%s' is not a number: expected a response code such as 404", s);
        return -1;
    }
    if (n != 3) {
        snprintf(why, whysz, "'%s' is not a three-digit response code (100..699)", s);
        return -1;
    }
    if (sk_slice_to_u64(sk_slice_make(s, n), 999, &v) != 0 || !sk_code_valid((unsigned)v)) {
        snprintf(why, whysz, "'%s' is out of range: SIP response codes run from 100 to 699", s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static size_t auto_width(void)
{
    const char *env = getenv("COLUMNS");
    uint64_t v;
    struct winsize ws;
    size_t w = DEFAULT_WIDTH;

    if (env != NULL && sk_slice_to_u64(sk_slice_cstr(env), 10000, &v) == 0 && v >= 40)
        w = (size_t)v;
    else if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        w = ws.ws_col;
    return w > MAX_AUTO_WIDTH ? MAX_AUTO_WIDTH : w;
}

struct opts {
    bool json, list;
    size_t width;
    unsigned codes[2];
    size_t ncodes;
};

/* Returns -1 on a usage error (already reported), 1 for --help, else 0. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    char why[160];
    bool dashdash = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!dashdash && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0))
            return 1;
        if (!dashdash && strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (!dashdash && strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (!dashdash && strcmp(a, "--width") == 0) {
            uint64_t v;

            if (i + 1 >= argc || sk_slice_to_u64(sk_slice_cstr(argv[i + 1]), 200, &v) != 0 ||
                v < 40) {
                sk_cli_error("explain", "--width needs a number from 40 to 200");
                return -1;
            }
            o->width = (size_t)v;
            i++;
        } else if (!dashdash && strcmp(a, "--") == 0) {
            dashdash = true;
        } else if (!dashdash && a[0] == '-' && a[1] != '\0') {
            sk_cli_error("explain", "unknown option '%s' (see 'sipkit explain --help')", a);
            return -1;
        } else if (o->ncodes == 2) {
            sk_cli_error("explain", "too many codes: give one code, or two to compare");
            return -1;
        } else if (parse_code(a, &o->codes[o->ncodes], why, sizeof(why)) != 0) {
            sk_cli_error("explain", "%s", why);
            return -1;
        } else {
            o->ncodes++;
        }
    }
    if (o->list && o->ncodes > 0) {
        sk_cli_error("explain", "--list takes no codes");
        return -1;
    }
    if (!o->list && o->ncodes == 0) {
        sk_cli_error("explain", "missing CODE (see 'sipkit explain --help')");
        return -1;
    }
    return 0;
}

int sk_cmd_explain(int argc, char **argv)
{
    struct opts o = {0};
    struct sk_explain_view v[2];
    int rc = parse_args(argc, argv, &o);

    if (rc < 0)
        return SK_EXIT_USAGE;
    if (rc > 0) {
        usage(stdout);
        return SK_EXIT_OK;
    }
    if (o.width == 0)
        o.width = auto_width();
    for (size_t i = 0; i < o.ncodes; i++)
        sk__explain_view(&v[i], o.codes[i]);
    if (o.json)
        rc = o.list ? sk__explain_json_list(stdout)
                    : sk__explain_json(stdout, &v[0], o.ncodes == 2 ? &v[1] : NULL);
    else if (o.list)
        print_list(stdout, o.width);
    else if (o.ncodes == 1)
        print_one(stdout, &v[0], o.width);
    else
        rc = print_two(stdout, &v[0], &v[1], o.width);
    if (rc != 0) {
        sk_cli_error("explain", "%s", sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
    return fflush(stdout) == 0 ? SK_EXIT_OK : SK_EXIT_SYSTEM;
}
