/*
 * sipkit transport, TLS part (RFC 3261 §26, RFC 5630, RFC 5922, RFC 5923):
 * the settings of TLS listeners and of outgoing TLS connections, and
 * their reload on SIGHUP. TLS runs on OpenSSL (libssl) as a layer over a
 * TCP connection of the transport (src/transport/tls.c); everything else
 * about a TLS connection (framing, reuse, limits, timeouts) is the TCP
 * code's.
 *
 * Memory: struct sk_tls_config holds paths and strings owned by the
 * caller; the transport reads the files at sk_tp_new() and at
 * sk_tp_tls_reload() and keeps nothing pointing into the struct.
 *
 * Threads: sk_tp_tls_reload() from the controlling thread, while the
 * workers run; connections opened after it returns use the new
 * certificate, open ones keep theirs.
 */
#ifndef SIPKIT_TLS_H
#define SIPKIT_TLS_H

#include <stdbool.h>

/* Whether a TLS listener asks for, or demands, a client certificate. */
enum sk_tls_verify {
    SK_TLS_VERIFY_NONE = 0,
    SK_TLS_VERIFY_OPTIONAL, /* asked for; verified against ca_file when sent */
    SK_TLS_VERIFY_REQUIRED, /* the handshake fails without a valid one */
};

struct sk_tls_config {
    const char *cert_file; /* PEM chain, leaf first; needed by TLS listeners */
    const char *key_file;  /* PEM private key of the leaf */
    /* PEM bundle that client certificates and the servers sipkit connects
     * to are verified against; NULL or "": the system's default bundle. */
    const char *ca_file;
    enum sk_tls_verify verify_client;
    /* Lowest protocol version accepted, as OpenSSL's TLS1_2_VERSION or
     * TLS1_3_VERSION; 0: TLS 1.2. */
    int min_version;
    const char *ciphers; /* OpenSSL cipher list for TLS 1.2; NULL or "": OpenSSL's */
    /* Outgoing connections skip verification of the server (tests). */
    bool insecure;
};

/* "none" / "optional" / "required"; returns 0 or SK_EINVAL. */
int sk_tls_verify_parse(const char *text, enum sk_tls_verify *out);
/* "1.2" / "1.3" to TLS1_2_VERSION / TLS1_3_VERSION; 0 or SK_EINVAL. */
int sk_tls_version_parse(const char *text, int *out);

struct sk_tp;
/* Read the certificate, key and CA bundle again and use them for new
 * connections. Returns 0, or a negative error (logged) and keeps the old
 * ones. */
int sk_tp_tls_reload(struct sk_tp *tp, const struct sk_tls_config *cfg);

#endif
