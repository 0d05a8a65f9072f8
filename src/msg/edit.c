/*
 * Editing a parsed message by a list of operations applied at write time:
 * what a proxy does to a request it forwards (RFC 3261 §16.6: new
 * Request-URI, Max-Forwards, Record-Route, Via; Route removed) and to a
 * response it passes back (§16.7: its own Via removed). Headers no
 * operation touches are written byte for byte.
 *
 * Memory: operations hold slices the caller keeps alive until written.
 */
#include <sipkit/msg.h>

#include <string.h>

void sk_msg_edit_init(struct sk_msg_edit *e, const struct sk_msg *m)
{
    memset(e, 0, sizeof(*e));
    e->m = m;
}

static int add_op(struct sk_msg_edit *e, enum sk_edit_kind kind, size_t index, struct sk_slice name,
                  struct sk_slice value)
{
    if (e->nops >= SK_MSG_EDIT_MAX_OPS)
        return SK_ETOOBIG;
    if (index > e->m->nhdrs || (kind != SK_EDIT_INSERT && index == e->m->nhdrs))
        return SK_EINVAL;
    e->ops[e->nops].kind = kind;
    e->ops[e->nops].index = index;
    e->ops[e->nops].name = name;
    e->ops[e->nops].value = value;
    e->nops++;
    return 0;
}

int sk_msg_edit_remove(struct sk_msg_edit *e, size_t index)
{
    return add_op(e, SK_EDIT_REMOVE, index, SK_SLICE_NULL, SK_SLICE_NULL);
}

int sk_msg_edit_replace(struct sk_msg_edit *e, size_t index, struct sk_slice value)
{
    return add_op(e, SK_EDIT_REPLACE, index, SK_SLICE_NULL, value);
}

int sk_msg_edit_insert(struct sk_msg_edit *e, size_t before, struct sk_slice name,
                       struct sk_slice value)
{
    return add_op(e, SK_EDIT_INSERT, before, name, value);
}

void sk_msg_edit_set_ruri(struct sk_msg_edit *e, struct sk_slice ruri)
{
    e->ruri = ruri;
}

void sk_msg_edit_set_body(struct sk_msg_edit *e, struct sk_slice body)
{
    e->replace_body = true;
    e->body = body;
}

static void write_line(struct sk_buf *out, struct sk_slice name, struct sk_slice value)
{
    sk_buf_append_slice(out, name);
    sk_buf_append(out, ": ", 2);
    sk_buf_append_slice(out, value);
    sk_buf_append(out, "\r\n", 2);
}

static void write_inserts(const struct sk_msg_edit *e, size_t index, struct sk_buf *out)
{
    for (size_t i = 0; i < e->nops; i++) {
        if (e->ops[i].kind == SK_EDIT_INSERT && e->ops[i].index == index)
            write_line(out, e->ops[i].name, e->ops[i].value);
    }
}

/* The last REMOVE or REPLACE for a header wins. */
static const struct sk_edit_op *change_for(const struct sk_msg_edit *e, size_t index)
{
    const struct sk_edit_op *found = NULL;

    for (size_t i = 0; i < e->nops; i++) {
        if (e->ops[i].kind != SK_EDIT_INSERT && e->ops[i].index == index)
            found = &e->ops[i];
    }
    return found;
}

static void write_length(struct sk_buf *out, struct sk_slice name, size_t len)
{
    sk_buf_append_slice(out, name);
    sk_buf_append(out, ": ", 2);
    sk_buf_append_u64(out, len);
    sk_buf_append(out, "\r\n", 2);
}

static void write_start_line(const struct sk_msg_edit *e, struct sk_buf *out)
{
    const struct sk_msg *m = e->m;

    if (m->is_request && e->ruri.len > 0) {
        sk_buf_append_slice(out, m->method);
        sk_buf_append(out, " ", 1);
        sk_buf_append_slice(out, e->ruri);
        sk_buf_append(out, " ", 1);
        sk_buf_append_slice(out, m->version);
        sk_buf_append(out, "\r\n", 2);
    } else {
        sk_buf_append_slice(out, m->start_raw);
    }
}

int sk_msg_edit_write(const struct sk_msg_edit *e, struct sk_buf *out)
{
    const struct sk_msg *m = e->m;
    bool wrote_length = false;

    write_start_line(e, out);
    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct sk_hdr *h = &m->hdrs[i];
        const struct sk_edit_op *op = change_for(e, i);
        write_inserts(e, i, out);
        if (op != NULL && op->kind == SK_EDIT_REMOVE)
            continue;
        if (e->replace_body && h->id == SK_HDR_CONTENT_LENGTH) {
            if (!wrote_length)
                write_length(out, h->name, e->body.len);
            wrote_length = true;
        } else if (op != NULL) {
            write_line(out, h->name, op->value);
        } else {
            sk_buf_append_slice(out, h->raw);
        }
    }
    write_inserts(e, m->nhdrs, out);
    if (e->replace_body && !wrote_length)
        write_length(out, SK_SLICE_LIT("Content-Length"), e->body.len);
    sk_buf_append_slice(out, m->head_end.len ? m->head_end : SK_SLICE_LIT("\r\n"));
    sk_buf_append_slice(out, e->replace_body ? e->body : m->body);
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

int sk_msg_write(const struct sk_msg *m, struct sk_buf *out)
{
    /* Unedited: the bytes as received, from the start line to the end of
     * the body (a missing final empty line stays missing). */
    sk_buf_append_slice(out, m->raw);
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}
