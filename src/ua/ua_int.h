/*
 * Internals of the user-agent layer shared by the files in src/ua.
 */
#ifndef SK_UA_INT_H
#define SK_UA_INT_H

#include <sipkit/auth.h>
#include <sipkit/ua.h>

#define SK__UA_MAX_AUTH 4 /* 401/407 rounds per request, a guard above the auth client's own */

/* ---- the socket transport (net.c) ---------------------------------------- */

struct sk__net;

/* A received message, already parsed and with its source set. */
typedef void (*sk__net_rx_cb)(void *arg, const char *data, size_t len, const struct sk_addr *from);

/* Bind (local may be NULL: open sockets lazily, any address, ephemeral
 * port). Over TCP a listener is opened on the local address too. */
/* tls_ca / tls_insecure: for SK_TP_TLS, how servers are verified. */
int sk__net_new(struct sk__net **out, enum sk_transport tp, const struct sk_addr *local,
                const char *tls_ca, bool tls_insecure);
/* RFC 5922: the name a TLS server at addr must prove (the host the user
 * gave, before resolution); without one the address itself. */
void sk__net_expect_name(struct sk__net *n, const struct sk_addr *addr, const char *name);

/* net_tls.c: TLS on the UA's stream sockets. */
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
int sk__ua_tls_ctx(SSL_CTX **out, const char *ca_file, bool insecure);
/* Handshake on a connected socket (blocking, bounded); logs why it failed. */
int sk__ua_tls_connect(SSL_CTX *ctx, int fd, const char *name, SSL **out);
int sk__ua_tls_write(SSL *ssl, int fd, const char *data, size_t len);
/* Bytes read, SK_EAGAIN for none yet, 0 when closed or failed. */
long sk__ua_tls_read(SSL *ssl, char *buf, size_t cap);
bool sk__ua_tls_pending(SSL *ssl);
void sk__ua_tls_close(SSL *ssl);
void sk__net_free(struct sk__net *n);
int sk__net_send(struct sk__net *n, const struct sk_addr *dst, const char *data, size_t len);
/* The address we are reached at when talking to dst (family of dst):
 * the source address the kernel picks towards dst and our bound port. */
int sk__net_local_for(struct sk__net *n, const struct sk_addr *dst, struct sk_addr *out);
/* The bound address of the first socket (sslen 0 before one is open). */
void sk__net_bound(const struct sk__net *n, struct sk_addr *out);
int sk__net_poll(struct sk__net *n, int timeout_ms, sk__net_rx_cb cb, void *arg);

/* ---- the UA ----------------------------------------------------------- */

/* 5061 over TLS, else 5060 (RFC 3261 §19.1.2). */
uint16_t sk__ua_default_port(const struct sk_ua *ua);

/* A 2xx to an INVITE that we resend until its ACK (§13.3.1.4). */
struct sk__ua_2xx {
    char *data;
    size_t len;
    struct sk_addr peer;
    char *call_id;
    uint32_t cseq;
    uint32_t interval_ms; /* the next wait: T1, doubling up to T2 */
    uint64_t next_ms;     /* when it goes out again */
    uint64_t end_ms;      /* 64*T1 after the first send */
};

struct sk_ua {
    struct sk_ua_config cfg; /* strings below are our copies */
    char *aor, *display, *auth_user, *password, *user_agent;
    struct sk_uri aor_uri; /* views into aor */
    struct sk_addr proxy;  /* sslen 0: none */
    struct sk_addr local;  /* configured local (or test address) */
    struct sk__net *net;   /* NULL with the test hook */
    struct sk_txn_table *txns;
    char auth_name[SK_AUTH_NAME_MAX + 1]; /* digest username */
    char local_str[SK_ADDR_STRLEN];
    char contact[512];
    char from[600];
    struct sk_msg rx; /* reused for every received message */
    char rx_ip[SK_ADDR_STRLEN];
    struct sk__ua_2xx *ok; /* 2xx waiting for their ACK */
    size_t nok;
};

struct sk_ua_req {
    struct sk_ua *ua;
    struct sk_ua_req_opts o; /* strings point into the copies below */
    char *method, *ruri, *to, *headers, *ctype, *cparams, *body;
    char call_id[64];
    char from_tag[24];
    uint32_t cseq;
    struct sk_ua_dialog *dialog;
    struct sk_addr peer;
    struct sk_txn *txn; /* the current transaction (a reference) */
    char branch[SK_TXN_BRANCH_LEN + 1];
    struct sk_auth_client *auth; /* made at the first 401 / 407 */
    struct sk_buf sent_buf;
    struct sk_msg sent;
    struct sk_buf final_buf;
    struct sk_msg final;
    enum sk_ua_outcome outcome;
    unsigned status;
    int error;
    unsigned auth_rounds;
    unsigned auth_tries;
    char realm[128];
    bool provisional;
    bool want_cancel;
    bool cancelled;
};

struct sk_ua_dialog {
    struct sk_ua *ua;
    char *call_id;
    char *local_tag;
    char *remote_tag;
    char *local_uri;  /* From (UAC) / To (UAS) name-addr as we write it */
    char *remote_uri; /* the other side */
    char *remote_target;
    char **routes; /* route set, in the order the Route header gets them */
    size_t nroutes;
    uint32_t local_cseq;
    uint32_t remote_cseq;
    bool remote_cseq_set;
};

/* ua.c */
void sk__ua_via(struct sk_ua *ua, struct sk_buf *out, const char *branch);
int sk__ua_send(struct sk_ua *ua, const struct sk_addr *dst, const char *data, size_t len);
int sk__ua_prepare_local(struct sk_ua *ua, const struct sk_addr *dst);
void sk__ua_trace(struct sk_ua *ua, enum sk_trace_dir dir, const struct sk_addr *peer,
                  const char *data, size_t len);
/* request.c: the transaction callbacks for client transactions. */
void sk__req_on_response(struct sk_ua_req *r, struct sk_txn *txn, const struct sk_msg *resp);
void sk__req_on_failure(struct sk_ua_req *r, struct sk_txn *txn, enum sk_ua_outcome o, int err);
/* uas.c: resending our 2xx until the ACK (§13.3.1.4). */
/* An ACK arrived: stop resending the 2xx it acknowledges. */
void sk__uas_acked(struct sk_ua *ua, const struct sk_msg *ack);
/* Resend what is due, give up what waited 64*T1. */
void sk__uas_tick(struct sk_ua *ua, uint64_t now);
/* When the next resend or give-up is due (UINT64_MAX: none). */
uint64_t sk__uas_next_due(const struct sk_ua *ua);
void sk__uas_free(struct sk_ua *ua);
/* dialog.c: where an in-dialog request goes and what it looks like. */
int sk__dialog_next_hop(const struct sk_ua_dialog *d, struct sk_addr *out);
void sk__dialog_headers(const struct sk_ua_dialog *d, struct sk_buf *out, const char *method,
                        uint32_t cseq);
/* Copy a slice into a new heap string (NULL on failure). */
char *sk__ua_strdup(struct sk_slice s);

#endif
