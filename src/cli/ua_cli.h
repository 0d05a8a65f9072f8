/*
 * What the client commands (register, options, message, call, answer,
 * subscribe, publish) share: the common options, the password sources, the
 * UA set-up, the -v ladder, waiting on a request with Ctrl-C and a
 * deadline, and turning an outcome into a message and an exit status.
 */
#ifndef SK_CLI_UA_CLI_H
#define SK_CLI_UA_CLI_H

#include <signal.h>
#include <stdio.h>

#include <sipkit/ua.h>

struct sk_cli_ua {
    const char *cmd;
    /* shared options */
    const char *user; /* --user AOR */
    const char *password;
    bool password_stdin;
    const char *auth_user;
    const char *proxy;
    enum sk_transport transport;
    const char *tls_ca; /* --tls-ca FILE */
    bool insecure;      /* --insecure: TLS without verifying the server */
    const char *local;
    int timeout_s; /* -1: not given */
    int wait_s;    /* the timeout in force (set by sk_cli_ua_deadline) */
    int verbose;
    bool json;
    /* run time */
    struct sk_ua *ua;
    char aor[512];
    char pwbuf[512];
    uint64_t t0;
    sk_ua_request_cb on_request;
    void *request_arg;
    sk_ua_ack_cb on_ack;
    void *ack_arg;
    sk_ua_no_ack_cb on_no_ack;
    void *no_ack_arg;
};

/* Set by SIGINT / SIGTERM once sk_cli_ua_start() has run. */
extern volatile sig_atomic_t sk_cli_interrupted;

void sk_cli_ua_init(struct sk_cli_ua *c, const char *cmd);
/* If argv[*i] is a shared option, take it (and its value, advancing *i)
 * and return 1; 0 when it is not one; -1 (message printed) on a bad value. */
int sk_cli_ua_option(struct sk_cli_ua *c, int argc, char **argv, int *i);
/* For command options: "--name VALUE" or "--name=VALUE". Returns 1 with
 * *value set, 0 when argv[*i] is another option, -1 when the value is
 * missing (message printed). */
int sk_cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name,
               const char **value);
/* A whole number in [min, max]; -1 with a message otherwise. */
int sk_cli_number(const char *cmd, const char *opt, const char *s, long min, long max, long *out);
/* Help text for the shared options. */
void sk_cli_ua_usage(FILE *out);

/* "sip:" is added to a URI given without a scheme; returns a heap string
 * (free with free()), NULL on failure. */
char *sk_cli_uri(const char *s);

/* Read the password, create the UA for aor (the --user value wins when
 * given; may be NULL only if --user was), install the signal handlers.
 * Returns SK_EXIT_OK or the exit status (message printed). */
int sk_cli_ua_start(struct sk_cli_ua *c, const char *aor);
void sk_cli_ua_stop(struct sk_cli_ua *c);

/* Milliseconds since start (monotonic). */
uint64_t sk_cli_ua_now(const struct sk_cli_ua *c);
/* Poll until the request has an outcome, deadline_ms passes (0: none) or a
 * signal arrives. Returns 0 (outcome), 1 (deadline), 2 (interrupted). */
int sk_cli_ua_wait(struct sk_cli_ua *c, struct sk_ua_req *r, uint64_t deadline_ms);
/* Poll for at most ms (stops early on a signal or when *stop is set). */
void sk_cli_ua_sleep(struct sk_cli_ua *c, uint64_t ms, const bool *stop);
/* Deadline from --timeout (default_s when not given; 0: none). */
uint64_t sk_cli_ua_deadline(const struct sk_cli_ua *c, int default_s);

/* The exit status for a request's outcome; prints what went wrong on
 * stderr unless the outcome is a 2xx. */
int sk_cli_ua_report(struct sk_cli_ua *c, struct sk_ua_req *r);
/* The same for a deadline that passed with no final response. */
int sk_cli_ua_report_timeout(struct sk_cli_ua *c, struct sk_ua_req *r, bool provisional);
/* What a command does with requests it does not expect. */
void sk_cli_default_request(struct sk_cli_ua *c, struct sk_txn *txn, const struct sk_msg *req);
/* Print "NAME: value" for every header with this id (to out). */
void sk_cli_print_headers(FILE *out, const struct sk_msg *m, enum sk_hdr_id id);
/* Append a JSON member "name": value-of-first-header or null. */
void sk_cli_json_header(struct sk_buf *b, const char *name, const struct sk_msg *m,
                        enum sk_hdr_id id);

#endif
