/*
 * XML bodies of the event packages: application/reginfo+xml (RFC 3680
 * §5.3), application/pidf+xml (RFC 3863 §4) and
 * application/dialog-info+xml (RFC 4235 §4), every text value and
 * attribute escaped; and a structural check of published PIDF documents.
 *
 * Memory: everything is appended to the caller's sk_buf (its failure flag
 * reports an allocation failure); nothing is kept.
 */
#include <sipkit/events.h>

#include <string.h>

void sk_xml_escape(struct sk_buf *b, struct sk_slice s)
{
    size_t run = 0;

    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        const char *rep = NULL;

        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            /* XML 1.0 §2.2: no control characters besides TAB, LF, CR. */
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                rep = "\xEF\xBF\xBD";
            break;
        }
        if (rep == NULL)
            continue;
        sk_buf_append(b, s.p + run, i - run);
        sk_buf_append_cstr(b, rep);
        run = i + 1;
    }
    sk_buf_append(b, s.p + run, s.len - run);
}

static void esc(struct sk_buf *b, const char *s)
{
    sk_xml_escape(b, sk_slice_cstr(s != NULL ? s : ""));
}

/* name="escaped value" with a leading space. */
static void attr(struct sk_buf *b, const char *name, const char *value)
{
    sk_buf_printf(b, " %s=\"", name);
    esc(b, value);
    sk_buf_append_cstr(b, "\"");
}

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* A q-value in thousandths as RFC 3261 §25.1 writes it: "1", "0.5", "0.125". */
static void append_q(struct sk_buf *b, int q)
{
    char digits[4];
    int n = 3;

    if (q >= 1000) {
        sk_buf_append_cstr(b, "1");
        return;
    }
    if (q < 0)
        q = 0;
    digits[0] = (char)('0' + q / 100);
    digits[1] = (char)('0' + q / 10 % 10);
    digits[2] = (char)('0' + q % 10);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    sk_buf_append_cstr(b, "0.");
    sk_buf_append(b, digits, (size_t)n);
}

/* ---- reginfo (RFC 3680) ------------------------------------------------------ */

static const char *const reg_events[] = {
    [SK_REG_EV_REGISTERED] = "registered", [SK_REG_EV_CREATED] = "created",
    [SK_REG_EV_REFRESHED] = "refreshed",   [SK_REG_EV_SHORTENED] = "shortened",
    [SK_REG_EV_EXPIRED] = "expired",       [SK_REG_EV_DEACTIVATED] = "deactivated",
    [SK_REG_EV_PROBATION] = "probation",   [SK_REG_EV_UNREGISTERED] = "unregistered",
    [SK_REG_EV_REJECTED] = "rejected",
};

const char *sk_reg_event_name(enum sk_reg_event e)
{
    return (unsigned)e < sizeof(reg_events) / sizeof(reg_events[0]) ? reg_events[e] : "";
}

static void reginfo_contact(struct sk_buf *b, const struct sk_reginfo_contact *c)
{
    sk_buf_append_cstr(b, "    <contact");
    attr(b, "id", c->id);
    attr(b, "state", c->active ? "active" : "terminated");
    attr(b, "event", sk_reg_event_name(c->event));
    if (c->active)
        sk_buf_printf(b, " expires=\"%u\"", (unsigned)c->expires);
    if (c->q >= 0) {
        sk_buf_append_cstr(b, " q=\"");
        append_q(b, c->q);
        sk_buf_append_cstr(b, "\"");
    }
    if (given(c->call_id)) {
        attr(b, "callid", c->call_id);
        sk_buf_printf(b, " cseq=\"%u\"", (unsigned)c->cseq);
    }
    sk_buf_append_cstr(b, ">\n      <uri>");
    esc(b, c->uri);
    sk_buf_append_cstr(b, "</uri>\n    </contact>\n");
}

void sk_ev_reginfo_build(struct sk_buf *out, const struct sk_reginfo *ri)
{
    const char *state = ri->ncontacts == 0 ? "init" : "terminated";

    for (size_t i = 0; i < ri->ncontacts; i++) {
        if (ri->contacts[i].active)
            state = "active";
    }
    sk_buf_printf(out,
                  "<?xml version=\"1.0\"?>\n"
                  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"%u\" "
                  "state=\"%s\">\n  <registration",
                  (unsigned)ri->version, ri->full ? "full" : "partial");
    attr(out, "aor", ri->aor);
    attr(out, "id", ri->reg_id);
    attr(out, "state", state);
    sk_buf_append_cstr(out, ">\n");
    for (size_t i = 0; i < ri->ncontacts; i++)
        reginfo_contact(out, &ri->contacts[i]);
    sk_buf_append_cstr(out, "  </registration>\n</reginfo>\n");
}

/* ---- PIDF (RFC 3863) ---------------------------------------------------------- */

void sk_ev_pidf_build(struct sk_buf *out, const struct sk_pidf *p)
{
    sk_buf_append_cstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"");
    attr(out, "entity", p->entity);
    sk_buf_append_cstr(out, ">\n  <tuple");
    attr(out, "id", given(p->tuple_id) ? p->tuple_id : "t1");
    sk_buf_printf(out, ">\n    <status>\n      <basic>%s</basic>\n    </status>\n",
                  p->open ? "open" : "closed");
    if (given(p->contact)) {
        sk_buf_append_cstr(out, "    <contact>");
        esc(out, p->contact);
        sk_buf_append_cstr(out, "</contact>\n");
    }
    sk_buf_append_cstr(out, "  </tuple>\n");
    if (given(p->note)) {
        sk_buf_append_cstr(out, "  <note>");
        esc(out, p->note);
        sk_buf_append_cstr(out, "</note>\n");
    }
    sk_buf_append_cstr(out, "</presence>\n");
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct sk_slice *s)
{
    while (s->len > 0 && xml_space(s->p[0])) {
        s->p++;
        s->len--;
    }
}

static bool starts(struct sk_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.p, lit, n) == 0;
}

/* Skip past the first occurrence of end; false when there is none. */
static bool skip_past(struct sk_slice *s, const char *end)
{
    size_t n = strlen(end);

    for (size_t i = 0; i + n <= s->len; i++) {
        if (memcmp(s->p + i, end, n) == 0) {
            s->p += i + n;
            s->len -= i + n;
            return true;
        }
    }
    return false;
}

static bool contains(struct sk_slice s, const char *needle)
{
    return skip_past(&s, needle);
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
}

/* The prolog: BOM, XML declaration, comments, white space. */
static bool skip_prolog(struct sk_slice *s)
{
    if (starts(*s, "\xEF\xBB\xBF")) {
        s->p += 3;
        s->len -= 3;
    }
    for (;;) {
        skip_space(s);
        if (starts(*s, "<?")) {
            if (!skip_past(s, "?>"))
                return false;
        } else if (starts(*s, "<!--")) {
            if (!skip_past(s, "-->"))
                return false;
        } else {
            return true;
        }
    }
}

/* RFC 3863 §4.1.4: every <basic> (in whatever namespace prefix) says
 * "open" or "closed". Watchers may refuse anything else: linphonec answers
 * a NOTIFY carrying baresip's "unknown" with 488, which ends the
 * subscription (RFC 6665 §4.1.3), so it is refused at PUBLISH instead. */
static bool basic_values_ok(struct sk_slice s)
{
    const char *start = s.p;

    while (skip_past(&s, "basic>")) {
        const char *lt = s.p - 7; /* the character before "basic>" */
        /* An opening tag: "<basic>" or "<prefix:basic>", not "</...>". */
        if (lt >= start && *lt == ':')
            while (lt > start && *lt != '<' && name_char(*lt))
                lt--;
        if (lt < start || *lt != '<' || lt[1] == '/')
            continue;
        struct sk_slice v = s;
        size_t n = 0;
        skip_space(&v);
        while (n < v.len && v.p[n] != '<' && !xml_space(v.p[n]))
            n++;
        struct sk_slice word = sk_slice_make(v.p, n);
        if (!sk_slice_eq(word, SK_SLICE_LIT("open")) && !sk_slice_eq(word, SK_SLICE_LIT("closed")))
            return false;
    }
    return true;
}

int sk_ev_pidf_check(struct sk_slice body, const char **why)
{
    struct sk_slice s = body, name, tag, tail;
    const char *colon;

    if (memchr(body.p, '\0', body.len) != NULL) {
        *why = "NUL byte in PIDF body";
        return SK_EPARSE;
    }
    if (!skip_prolog(&s) || s.len == 0 || s.p[0] != '<') {
        *why = "PIDF body is not an XML document";
        return SK_EPARSE;
    }
    name.p = s.p + 1;
    name.len = 0;
    while (name.len + 1 < s.len && name_char(name.p[name.len]))
        name.len++;
    colon = memchr(name.p, ':', name.len);
    struct sk_slice local =
        colon == NULL ? name : sk_slice_make(colon + 1, name.len - (size_t)(colon + 1 - name.p));
    if (!sk_slice_eq(local, SK_SLICE_LIT("presence"))) {
        *why = "PIDF root element is not presence";
        return SK_EPARSE;
    }
    tag = sk_slice_make(name.p + name.len, s.len - 1 - name.len);
    tail = tag;
    if (!skip_past(&tail, ">")) {
        *why = "PIDF presence element not closed";
        return SK_EPARSE;
    }
    tag.len = (size_t)(tail.p - tag.p);
    if (!contains(tag, "urn:ietf:params:xml:ns:pidf")) {
        *why = "PIDF namespace missing";
        return SK_EPARSE;
    }
    if (!contains(tag, "entity=")) {
        *why = "PIDF entity attribute missing";
        return SK_EPARSE;
    }
    /* The document ends with the root's end tag (white space after it). */
    while (tail.len > 0 && xml_space(tail.p[tail.len - 1]))
        tail.len--;
    if (tag.len >= 2 && tag.p[tag.len - 2] == '/' && tail.len == 0)
        return 0; /* <presence .../> */
    if (tail.len < name.len + 3 || tail.p[tail.len - 1] != '>' ||
        memcmp(tail.p + tail.len - 1 - name.len, name.p, name.len) != 0 ||
        memcmp(tail.p + tail.len - 3 - name.len, "</", 2) != 0) {
        *why = "PIDF presence element not closed";
        return SK_EPARSE;
    }
    if (!basic_values_ok(body)) {
        *why = "PIDF basic status is neither open nor closed";
        return SK_EPARSE;
    }
    return 0;
}

/* ---- dialog-info (RFC 4235) ---------------------------------------------------- */

static const char *const dlg_states[] = {
    [SK_DLG_TRYING] = "trying",       [SK_DLG_PROCEEDING] = "proceeding", [SK_DLG_EARLY] = "early",
    [SK_DLG_CONFIRMED] = "confirmed", [SK_DLG_TERMINATED] = "terminated",
};

const char *sk_dlg_state_name(enum sk_dlg_state s)
{
    return (unsigned)s < sizeof(dlg_states) / sizeof(dlg_states[0]) ? dlg_states[s] : "";
}

static void identity(struct sk_buf *b, const char *el, const char *uri)
{
    if (!given(uri))
        return;
    sk_buf_printf(b, "    <%s>\n      <identity>", el);
    esc(b, uri);
    sk_buf_printf(b, "</identity>\n    </%s>\n", el);
}

static void dialog_element(struct sk_buf *b, const struct sk_dialog_info_dialog *d)
{
    sk_buf_append_cstr(b, "  <dialog");
    attr(b, "id", d->id);
    attr(b, "call-id", d->call_id);
    if (given(d->local_tag))
        attr(b, "local-tag", d->local_tag);
    if (given(d->remote_tag))
        attr(b, "remote-tag", d->remote_tag);
    attr(b, "direction", d->initiator ? "initiator" : "recipient");
    sk_buf_append_cstr(b, ">\n    <state");
    if (given(d->event))
        attr(b, "event", d->event);
    if (d->code >= 100 && d->code <= 699)
        sk_buf_printf(b, " code=\"%u\"", d->code);
    sk_buf_printf(b, ">%s</state>\n", sk_dlg_state_name(d->state));
    identity(b, "local", d->local_uri);
    identity(b, "remote", d->remote_uri);
    sk_buf_append_cstr(b, "  </dialog>\n");
}

void sk_ev_dialog_info_build(struct sk_buf *out, const struct sk_dialog_info *di)
{
    sk_buf_printf(out,
                  "<?xml version=\"1.0\"?>\n"
                  "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"%u\" "
                  "state=\"%s\"",
                  (unsigned)di->version, di->full ? "full" : "partial");
    attr(out, "entity", di->entity);
    sk_buf_append_cstr(out, ">\n");
    for (size_t i = 0; i < di->ndialogs; i++)
        dialog_element(out, &di->dialogs[i]);
    sk_buf_append_cstr(out, "</dialog-info>\n");
}
