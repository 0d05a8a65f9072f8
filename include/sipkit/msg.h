/*
 * sipkit message layer: RFC 3261 §7 / §25 parsing, URIs, typed header
 * views, stream framing, and building and editing messages.
 *
 * Memory: parsing is zero-copy. A parsed struct sk_msg holds slices into the
 * caller's buffer, which must outlive the message and stay unchanged. The
 * only heap memory a message owns is its header array, grown on demand and
 * kept across sk_msg_parse() calls, so a reused struct sk_msg parses with no
 * allocation in steady state; sk_msg_free() releases it. Typed views (struct
 * sk_uri, sk_via, sk_nameaddr, ...) are plain values holding slices into the
 * same buffer; they own nothing. Builders write into a caller-owned sk_buf.
 *
 * Threads: no global state besides read-only tables; a struct sk_msg may be
 * read from several threads once parsed, written by one at a time.
 */
#ifndef SIPKIT_MSG_H
#define SIPKIT_MSG_H

#include <sipkit/base.h>

/* ---- limits ---------------------------------------------------------- */

#define SK_MSG_DEFAULT_MAX_SIZE    65536
#define SK_MSG_DEFAULT_MAX_HEADERS 256
#define SK_MSG_DEFAULT_MAX_URI     4096
#define SK_MSG_DEFAULT_MAX_LINE    16384

/* Every parser limit in one place; a zeroed field means "use the default". */
struct sk_msg_limits {
    size_t max_size;    /* whole message, start line to end of body */
    size_t max_headers; /* header field lines */
    size_t max_uri;     /* Request-URI length */
    size_t max_line;    /* one header field, folded lines included */
};

/* ---- methods and header ids ------------------------------------------ */

enum sk_method {
    SK_METHOD_OTHER = 0,
    SK_METHOD_INVITE,
    SK_METHOD_ACK,
    SK_METHOD_BYE,
    SK_METHOD_CANCEL,
    SK_METHOD_REGISTER,
    SK_METHOD_OPTIONS,
    SK_METHOD_SUBSCRIBE,
    SK_METHOD_NOTIFY,
    SK_METHOD_PUBLISH,
    SK_METHOD_MESSAGE,
    SK_METHOD_INFO,
    SK_METHOD_PRACK,
    SK_METHOD_UPDATE,
    SK_METHOD_REFER,
    SK_METHOD__COUNT
};

/* Case-sensitive, as §7.1 says methods are. */
enum sk_method sk_method_from_slice(struct sk_slice s);
const char *sk_method_name(enum sk_method m); /* "" for SK_METHOD_OTHER */

enum sk_hdr_id {
    SK_HDR_OTHER = 0,
#define SK_HDR_X(id, name, compact) SK_HDR_##id,
#include <sipkit/hdr_list.h>
#undef SK_HDR_X
    SK_HDR__COUNT
};

/* Header id for a name or compact form, case-insensitive; SK_HDR_OTHER
 * when unknown. */
enum sk_hdr_id sk_hdr_lookup(struct sk_slice name);
const char *sk_hdr_name(enum sk_hdr_id id); /* canonical name */
char sk_hdr_compact(enum sk_hdr_id id);     /* compact letter or 0 */

/* ---- parse causes ------------------------------------------------------ */

/* Why a message was refused. Each cause has a response status (400, 505,
 * 416 or 513) and a reason-phrase text naming the defect. */
enum sk_msg_cause {
    SK_CAUSE_NONE = 0,
    SK_CAUSE_EMPTY,
    SK_CAUSE_TOO_LARGE,
    SK_CAUSE_TOO_MANY_HEADERS,
    SK_CAUSE_LINE_TOO_LONG,
    SK_CAUSE_NUL_BYTE,
    SK_CAUSE_START_LINE,
    SK_CAUSE_METHOD,
    SK_CAUSE_REQUEST_URI,
    SK_CAUSE_URI_TOO_LONG,
    SK_CAUSE_SCHEME,
    SK_CAUSE_VERSION,
    SK_CAUSE_STATUS_CODE,
    SK_CAUSE_HEADER_LINE, /* no colon, bad name, bad continuation */
    SK_CAUSE_NO_END_OF_HEADERS,
    SK_CAUSE_MALFORMED_HDR,  /* a known header whose value is malformed */
    SK_CAUSE_MISSING_HDR,    /* a mandatory header is missing */
    SK_CAUSE_DUPLICATE_HDR,  /* a single-value header appears twice */
    SK_CAUSE_CONTENT_LENGTH, /* Content-Length malformed, too large, ... */
    SK_CAUSE_BODY_SHORT,     /* fewer body bytes than Content-Length */
    SK_CAUSE_CSEQ_METHOD,    /* CSeq method differs from request method */
    SK_CAUSE__COUNT
};

/* ---- URIs (RFC 3261 §19.1, RFC 3966) ----------------------------------- */

enum sk_uri_scheme {
    SK_URI_OTHER = 0, /* absoluteURI: only .raw, .scheme and .opaque set */
    SK_URI_SIP,
    SK_URI_SIPS,
    SK_URI_TEL,
};

enum sk_host_type {
    SK_HOST_NONE = 0,
    SK_HOST_NAME,
    SK_HOST_IPV4,
    SK_HOST_IPV6, /* .host includes the brackets */
};

struct sk_uri {
    struct sk_slice raw;
    enum sk_uri_scheme scheme;
    struct sk_slice scheme_name;
    struct sk_slice user; /* escaped form as on the wire; tel: the number */
    struct sk_slice password;
    struct sk_slice host;
    enum sk_host_type host_type;
    uint16_t port;
    bool has_port;
    struct sk_slice params;  /* after the first ';' of the uri-parameters, may be empty */
    struct sk_slice headers; /* after '?', may be empty */
    struct sk_slice opaque;  /* SK_URI_OTHER: everything after "scheme:" */
};

/* Parse a complete URI. Returns 0, SK_EPARSE (malformed) or SK_ESCHEME
 * never: unknown schemes parse as SK_URI_OTHER. */
int sk_uri_parse(struct sk_slice s, struct sk_uri *out);
/* RFC 3261 §19.1.4 equality (sip/sips) or RFC 3966 §4 (tel). */
bool sk_uri_equal(const struct sk_uri *a, const struct sk_uri *b);
/* Find a uri-parameter by name (case-insensitive). Returns true when found;
 * *value is empty for a parameter without '='. */
bool sk_uri_param(const struct sk_uri *u, const char *name, struct sk_slice *value);
/* Write the URI's user part with %HH escapes decoded. Returns the decoded
 * length, or SK_ETOOBIG if it does not fit in dstsz. */
int sk_uri_unescape(struct sk_slice s, char *dst, size_t dstsz);

/* ---- generic parameter lists (";name=value;name") --------------------- */

struct sk_param {
    struct sk_slice name;
    struct sk_slice value; /* without quotes for a quoted-string value */
    bool quoted;
};

/* Iterate a parameter list slice (with or without a leading ';'). Returns
 * 1 with *p set, 0 at the end, SK_EPARSE on malformed input. *cursor is
 * advanced; start it at the list slice. */
int sk_param_next(struct sk_slice *cursor, struct sk_param *p);
/* Find a parameter by name (case-insensitive) in a list. */
bool sk_param_find(struct sk_slice list, const char *name, struct sk_slice *value);

/* ---- typed header views ------------------------------------------------ */

/* name-addr / addr-spec with header params (From, To, Contact, Route,
 * Record-Route, Path, Reply-To, ...). */
struct sk_nameaddr {
    struct sk_slice raw;
    struct sk_slice display; /* without quotes; empty if none */
    bool display_quoted;
    bool bracketed; /* URI was inside < > */
    struct sk_uri uri;
    struct sk_slice params; /* header parameters after the URI */
    struct sk_slice tag;    /* the tag parameter, empty if none */
};

int sk_nameaddr_parse(struct sk_slice s, struct sk_nameaddr *out);

struct sk_via {
    struct sk_slice raw;
    struct sk_slice protocol;  /* "SIP/2.0" */
    struct sk_slice transport; /* "UDP", "TCP", ... */
    struct sk_slice host;      /* brackets kept for IPv6 */
    enum sk_host_type host_type;
    uint16_t port;
    bool has_port;
    struct sk_slice params;
    struct sk_slice branch;
    struct sk_slice received;
    struct sk_slice maddr;
    bool has_rport;
    uint16_t rport; /* 0 when "rport" has no value */
    int ttl;        /* -1 when absent */
};

int sk_via_parse(struct sk_slice s, struct sk_via *out);

struct sk_cseq {
    uint32_t num;
    struct sk_slice method;
    enum sk_method method_id;
};

struct sk_contact {
    struct sk_nameaddr addr; /* unset when star */
    bool star;
    int64_t expires; /* -1 when no expires parameter */
    int q;           /* q-value in thousandths (0..1000), -1 when absent */
};

struct sk_event {
    struct sk_slice package; /* "presence", "reg", "dialog", ... */
    struct sk_slice id;      /* id parameter, empty if none */
    struct sk_slice params;
};

struct sk_substate {
    struct sk_slice state; /* "active", "pending", "terminated" */
    struct sk_slice reason;
    int64_t expires;     /* -1 when absent */
    int64_t retry_after; /* -1 when absent */
    struct sk_slice params;
};

struct sk_ctype {
    struct sk_slice type;
    struct sk_slice subtype;
    struct sk_slice params;
};

/* Authorization / Proxy-Authorization credentials and WWW-Authenticate /
 * Proxy-Authenticate challenges (RFC 3261 §25.1, RFC 7616 §3.3-3.4).
 * Values are without their quotes; a quoted value containing a backslash
 * escape is flagged in .escaped (bit per field index). */
enum sk_digest_field {
    SK_DIG_USERNAME,
    SK_DIG_REALM,
    SK_DIG_NONCE,
    SK_DIG_URI,
    SK_DIG_RESPONSE,
    SK_DIG_ALGORITHM,
    SK_DIG_CNONCE,
    SK_DIG_OPAQUE,
    SK_DIG_QOP,
    SK_DIG_NC,
    SK_DIG_STALE,
    SK_DIG_DOMAIN,
    SK_DIG_USERHASH,
    SK_DIG_CHARSET,
    SK_DIG__COUNT
};

struct sk_digest_hdr {
    struct sk_slice raw;
    struct sk_slice scheme;           /* "Digest" (other schemes parse too) */
    struct sk_slice f[SK_DIG__COUNT]; /* empty when absent */
    uint32_t present;                 /* bit (1u << field) */
    uint32_t duplicated;              /* a field given twice */
    uint32_t escaped;                 /* quoted value with '\' escapes */
    struct sk_slice params;           /* everything after the scheme */
};

/* Parse one Authorization-style header value. Returns 0 or SK_EPARSE. */
int sk_digest_hdr_parse(struct sk_slice s, struct sk_digest_hdr *out);

/* ---- the message ------------------------------------------------------- */

struct sk_hdr {
    enum sk_hdr_id id;
    struct sk_slice name;  /* as written (may be a compact form) */
    struct sk_slice value; /* trimmed; folded lines kept as written */
    struct sk_slice raw;   /* the whole field line(s) with the final CRLF */
};

enum sk_msg_mode {
    /* UDP datagram or a file: a missing Content-Length means "the rest";
     * bytes past Content-Length are ignored (RFC 3261 §18.3). */
    SK_MSG_DATAGRAM = 0,
    /* A frame cut by sk_msg_frame(): Content-Length is mandatory. */
    SK_MSG_STREAM = 1,
};

struct sk_msg {
    struct sk_slice raw;        /* start line to end of body */
    struct sk_slice start_line; /* without CRLF */
    struct sk_slice start_raw;  /* with its line terminator */
    struct sk_slice head_end;   /* the empty line ending the headers */
    bool is_request;
    struct sk_slice method;
    enum sk_method method_id;
    struct sk_slice ruri_raw;
    struct sk_uri ruri;
    unsigned status; /* responses */
    struct sk_slice reason;
    struct sk_slice version;

    struct sk_hdr *hdrs;
    size_t nhdrs;
    size_t hdrs_cap;
    struct sk_slice body;
    struct sk_slice trailing; /* datagram bytes past Content-Length */

    /* Parsed at once: every transaction needs them. */
    struct sk_via via; /* the topmost Via value */
    struct sk_nameaddr from;
    struct sk_nameaddr to;
    struct sk_slice call_id;
    struct sk_cseq cseq;
    int max_forwards;              /* -1 when absent */
    int64_t content_length;        /* -1 when absent */
    uint16_t first[SK_HDR__COUNT]; /* index + 1 of each id's first header */

    /* Where the message came from, set by the transport with
     * sk_msg_set_source(); used for Via received/rport (RFC 3261 §18.2.1,
     * RFC 3581 §4) when responses and forwarded requests are written. */
    struct sk_slice src_ip;
    uint16_t src_port;

    /* Set when parsing fails. respondable says whether Via, From, To,
     * Call-ID and CSeq were read well enough to answer with an error. */
    bool respondable;
    enum sk_msg_cause cause;
    enum sk_hdr_id cause_hdr;   /* header concerned, when there is one */
    struct sk_slice cause_name; /* its name as written */
};

void sk_msg_init(struct sk_msg *m);
void sk_msg_free(struct sk_msg *m);

/* Parse one message from buf[0..len). Returns 0; or SK_EPARSE /
 * SK_ETOOBIG / SK_EVERSION / SK_ESCHEME with m->cause set; or SK_ENOMEM.
 * limits may be NULL for the defaults. */
int sk_msg_parse(struct sk_msg *m, const char *buf, size_t len, enum sk_msg_mode mode,
                 const struct sk_msg_limits *limits);

/* Validate every header that has a typed view (all Via, Contact, Route,
 * Record-Route, Path values, Content-Type, Event, Subscription-State,
 * Date, option-tag lists, credentials and challenges). sk_msg_parse()
 * checks only what every transaction needs; a server calls this (or the
 * typed accessors) before trusting the rest. Returns 0 or SK_EPARSE with
 * the cause set. */
int sk_msg_check(struct sk_msg *m);

/* Record the source address; ip must outlive the message. */
void sk_msg_set_source(struct sk_msg *m, struct sk_slice ip, uint16_t port);
/* Write the top Via value as it must be passed on: with received= when the
 * source differs from sent-by and rport=<port> when rport was asked for. */
void sk_msg_write_top_via(const struct sk_msg *m, struct sk_buf *out);

/* Status code and reason-phrase text for a failed parse, e.g. 400 and
 * "Malformed Via" or 505 and "Version Not Supported". Writes a NUL-
 * terminated phrase into buf and returns the status. */
unsigned sk_msg_error(const struct sk_msg *m, char *buf, size_t bufsz);
const char *sk_msg_cause_text(enum sk_msg_cause c);
unsigned sk_msg_cause_status(enum sk_msg_cause c);

/* Stream framing (TCP): looks at buf[0..len) and says where the next
 * message is. Leading CRLFs (keep-alives, RFC 5626 §3.5.1) are skipped and
 * counted in *skip. Returns 0 with *skip and *msg_len set; SK_EAGAIN when
 * more bytes are needed; SK_EPARSE (malformed or repeated Content-Length)
 * or SK_ETOOBIG (over limits->max_size) when the stream is unusable. A
 * message without Content-Length is framed with an empty body; parsing it
 * in SK_MSG_STREAM mode then refuses it. */
int sk_msg_frame(const char *buf, size_t len, const struct sk_msg_limits *limits, size_t *skip,
                 size_t *msg_len);

/* Header lookup. */
const struct sk_hdr *sk_msg_find(const struct sk_msg *m, enum sk_hdr_id id);
const struct sk_hdr *sk_msg_find_name(const struct sk_msg *m, struct sk_slice name);
size_t sk_msg_count(const struct sk_msg *m, enum sk_hdr_id id);

/* Iterate every comma-separated value of every header with this id, in
 * order (RFC 3261 §7.3.1). Commas inside quotes and <> are not separators. */
struct sk_hdr_iter {
    const struct sk_msg *m;
    enum sk_hdr_id id;
    size_t idx; /* next header index to look at */
    struct sk_slice rest;
    const struct sk_hdr *hdr; /* header of the value last returned */
};

void sk_hdr_iter_init(struct sk_hdr_iter *it, const struct sk_msg *m, enum sk_hdr_id id);
/* Returns 1 with *value set, 0 at the end, SK_EPARSE on unbalanced quotes. */
int sk_hdr_iter_next(struct sk_hdr_iter *it, struct sk_slice *value);
/* Split one comma-separated list value; same return values. */
int sk_list_next(struct sk_slice *cursor, struct sk_slice *value);

/* Typed access; each returns 1 (value), 0 (end/absent) or SK_EPARSE. */
int sk_msg_via_next(struct sk_hdr_iter *it, struct sk_via *out);
int sk_msg_contact_next(struct sk_hdr_iter *it, struct sk_contact *out);
int sk_msg_nameaddr_next(struct sk_hdr_iter *it, struct sk_nameaddr *out);
int sk_msg_token_next(struct sk_hdr_iter *it, struct sk_slice *token);
/* Whether a token list header (Require, Supported, Allow, ...) contains tok. */
bool sk_msg_has_token(const struct sk_msg *m, enum sk_hdr_id id, const char *tok);
/* Single numeric value (Expires, Min-Expires, Max-Forwards, ...). */
int sk_msg_get_uint(const struct sk_msg *m, enum sk_hdr_id id, uint64_t max, uint64_t *out);
int sk_msg_event(const struct sk_msg *m, struct sk_event *out);
int sk_msg_substate(const struct sk_msg *m, struct sk_substate *out);
int sk_msg_ctype(const struct sk_msg *m, struct sk_ctype *out);
int sk_event_parse(struct sk_slice s, struct sk_event *out);
int sk_substate_parse(struct sk_slice s, struct sk_substate *out);
int sk_ctype_parse(struct sk_slice s, struct sk_ctype *out);
int sk_contact_parse(struct sk_slice s, struct sk_contact *out);
/* CSeq = 1*DIGIT LWS Method, the number below 2^31 (§8.1.1.5). */
int sk_cseq_parse(struct sk_slice s, struct sk_cseq *out);

/* ---- building ---------------------------------------------------------- */

/* Start a request: "METHOD uri SIP/2.0\r\n". */
void sk_msg_start_request(struct sk_buf *out, struct sk_slice method, struct sk_slice ruri);
/* Start a response to req per RFC 3261 §8.2.6: status line, every Via,
 * From, To (with ;tag=to_tag added when To has none and to_tag is not
 * empty), Call-ID and CSeq copied. reason must not be empty. */
void sk_msg_start_response(struct sk_buf *out, const struct sk_msg *req, unsigned status,
                           struct sk_slice reason, struct sk_slice to_tag);
void sk_msg_add_header(struct sk_buf *out, const char *name, struct sk_slice value);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sk_msg_add_headerf(struct sk_buf *out, const char *name, const char *fmt, ...);
/* Content-Type (when ctype is not empty), Content-Length, the empty line
 * and the body. */
void sk_msg_finish(struct sk_buf *out, struct sk_slice ctype, struct sk_slice body);

/* ---- editing a parsed message ------------------------------------------ */

#define SK_MSG_EDIT_MAX_OPS 32

enum sk_edit_kind { SK_EDIT_REMOVE, SK_EDIT_REPLACE, SK_EDIT_INSERT };

struct sk_edit_op {
    enum sk_edit_kind kind;
    size_t index;          /* header index; INSERT goes before it (nhdrs = at the end) */
    struct sk_slice name;  /* INSERT */
    struct sk_slice value; /* INSERT, REPLACE */
};

/* A list of changes applied when serializing. Untouched headers are
 * written byte for byte. Slices passed in must outlive the serialization. */
struct sk_msg_edit {
    const struct sk_msg *m;
    struct sk_slice ruri; /* replacement Request-URI, or empty */
    bool replace_body;
    struct sk_slice body;
    struct sk_edit_op ops[SK_MSG_EDIT_MAX_OPS];
    size_t nops;
};

void sk_msg_edit_init(struct sk_msg_edit *e, const struct sk_msg *m);
int sk_msg_edit_remove(struct sk_msg_edit *e, size_t index);
int sk_msg_edit_replace(struct sk_msg_edit *e, size_t index, struct sk_slice value);
int sk_msg_edit_insert(struct sk_msg_edit *e, size_t before, struct sk_slice name,
                       struct sk_slice value);
void sk_msg_edit_set_ruri(struct sk_msg_edit *e, struct sk_slice ruri);
/* Replaces the body and rewrites Content-Length to match. */
void sk_msg_edit_set_body(struct sk_msg_edit *e, struct sk_slice body);
int sk_msg_edit_write(const struct sk_msg_edit *e, struct sk_buf *out);
/* Serialize unchanged: byte-identical to the parsed input. */
int sk_msg_write(const struct sk_msg *m, struct sk_buf *out);

#endif
