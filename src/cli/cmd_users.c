/*
 * sipkit users add|passwd|del|list: manage the digest users of a data
 * directory (the server's SQLite store, see include/sipkit/store.h).
 *
 *   sipkit users add NAME [--password-stdin] [--algorithms LIST] [--data-dir DIR] [--domain DOMAIN]
 *   sipkit users passwd NAME [--password-stdin] [--algorithms LIST] [--data-dir DIR] [--domain D]
 *   sipkit users set NAME --algorithms LIST|default [--data-dir DIR] [--domain DOMAIN]
 *   sipkit users del NAME [--data-dir DIR] [--domain DOMAIN]
 *   sipkit users list [--data-dir DIR] [--domain DOMAIN]
 *   sipkit users add|passwd|del|list ... --server URL [--token-file FILE]
 *
 * With --server, the change goes through a running server's admin API
 * (docs/api.md) in the server's domain, instead of the data directory.
 *
 * --algorithms makes the user require those digest algorithms (the server
 * then offers and accepts only those, in that order, for this user);
 * "default" returns the user to the server's list.
 *
 * The password is read from the first line of stdin with --password-stdin,
 * otherwise prompted twice on the terminal with echo off. Only HA1 values
 * reach the disk. A running server sees the change without a restart.
 * The password buffer is wiped after use.
 */
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/store_cli.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sipkit/store.h>

#define PW_MAX 1024

struct opts {
    const char *sub;
    const char *name;
    struct sk_cli_store store;
    const char *domain;
    const char *algorithms;
    bool password_stdin;
    struct sk_cli_api api; /* --server: through the admin API */
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit users add|passwd NAME [--password-stdin] [--algorithms LIST]"
                 " [--data-dir DIR] [--domain DOMAIN]\n"
                 "       sipkit users set NAME --algorithms LIST|default [--data-dir DIR]"
                 " [--domain DOMAIN]\n"
                 "       sipkit users del NAME [--data-dir DIR] [--domain DOMAIN]\n"
                 "       sipkit users list [--data-dir DIR] [--domain DOMAIN]\n"
                 "       sipkit users add|passwd|del|list ... --server URL [--token-file FILE]\n"
                 "       sipkit users ... --store URL [--store-password-file FILE]\n"
                 "\n"
                 "  --password-stdin  read the password from the first line of stdin\n"
                 "                    (otherwise it is asked twice on the terminal)\n"
                 "  --algorithms LIST digest algorithms this user must use, preferred first\n"
                 "                    (e.g. \"SHA-256\"; MD5, SHA-256, SHA-512-256); the\n"
                 "                    server offers and accepts only those for this user.\n"
                 "                    \"default\": the server's list (auth.algorithms)\n");
    fputs(SK_CLI_STORE_USAGE, out);
    fprintf(out, "  --domain DOMAIN   the users' domain, which is the digest realm\n"
                 "                    (default: this host's domain name)\n"
                 "  --server URL      change the users of a running server through its admin\n"
                 "                    API (e.g. http://127.0.0.1:9060), in its domain\n"
                 "  --token-file FILE the admin bearer token (default " SK_CLI_TOKEN_FILE ")\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int r;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--password-stdin") == 0) {
            o->password_stdin = true;
        } else if ((r = sk_cli_api_opt("users", argc, argv, &i, &o->api)) != 0) {
            if (r < 0)
                return -1;
        } else if ((r = sk_cli_store_opt("users", argc, argv, &i, &o->store)) != 0) {
            if (r < 0)
                return -1;
        } else if ((r = sk_cli_opt_value(argc, argv, &i, "--domain", &o->domain)) != 0 ||
                   (r = sk_cli_opt_value(argc, argv, &i, "--algorithms", &o->algorithms)) != 0) {
            if (r < 0) {
                sk_cli_error("users", "%s needs a value", a);
                return -1;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            sk_cli_error("users", "unknown option '%s'", a);
            return -1;
        } else if (o->sub == NULL) {
            o->sub = a;
        } else if (o->name == NULL) {
            o->name = a;
        } else {
            sk_cli_error("users", "unexpected argument '%s'", a);
            return -1;
        }
    }
    return 0;
}

/* This host's domain: the part after the first dot of its fully
 * qualified name, or the host name itself when it has no domain. */
static void default_domain(char *out, size_t outsz)
{
    char host[256] = "localhost";
    struct addrinfo hints, *res = NULL;
    const char *dot;

    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    dot = strchr(host, '.');
    if (dot == NULL) {
        memset(&hints, 0, sizeof(hints));
        hints.ai_flags = AI_CANONNAME;
        if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
            res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL)
            snprintf(host, sizeof(host), "%s", res->ai_canonname);
        if (res != NULL)
            freeaddrinfo(res);
        dot = strchr(host, '.');
    }
    snprintf(out, outsz, "%s", dot != NULL && dot[1] != '\0' ? dot + 1 : host);
}

/* Read one line (without its end) into buf. Returns its length or -1. */
static long read_line(FILE *f, char *buf, size_t bufsz)
{
    size_t n;

    if (fgets(buf, (int)bufsz, f) == NULL)
        return ferror(f) ? -1 : 0;
    n = strlen(buf);
    if (n == bufsz - 1 && buf[n - 1] != '\n')
        return -1; /* too long */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return (long)n;
}

static long prompt(const char *text, char *buf, size_t bufsz)
{
    struct termios old, quiet;
    long n;

    fputs(text, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return -1;
    n = read_line(stdin, buf, bufsz);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return n;
}

/* Returns the password length, or -1 after printing why. */
static long get_password(const struct opts *o, char *pw, size_t pwsz)
{
    char again[PW_MAX];
    long n;

    if (o->password_stdin) {
        n = read_line(stdin, pw, pwsz);
        if (n < 0)
            sk_cli_error("users", "cannot read the password from stdin (at most %d bytes)",
                         PW_MAX - 2);
    } else if (!isatty(STDIN_FILENO)) {
        sk_cli_error("users", "no terminal to ask for the password; use --password-stdin");
        return -1;
    } else {
        n = prompt("Password: ", pw, pwsz);
        if (n > 0) {
            long m = prompt("Password (again): ", again, sizeof(again));
            if (m != n || memcmp(pw, again, (size_t)n) != 0) {
                sk_cli_error("users", "the passwords do not match");
                n = -1;
            }
        }
        explicit_bzero(again, sizeof(again));
        if (n < 0)
            return -1;
    }
    if (n == 0) {
        sk_cli_error("users", "empty password: a user needs a password");
        return -1;
    }
    return n;
}

static int list_one(void *arg, const char *domain, const char *user)
{
    (void)arg;
    (void)domain;
    printf("%s\n", user);
    return 0;
}

/* Print why an operation failed; returns the exit status. */
static int report(int rc, const struct opts *o, const char *domain)
{
    switch (rc) {
    case 0:
        return SK_EXIT_OK;
    case SK_EEXIST:
        sk_cli_error("users", "user '%s' already exists in domain '%s'", o->name, domain);
        return SK_EXIT_FAIL;
    case SK_ENOTFOUND:
        sk_cli_error("users", "unknown user '%s' in domain '%s'", o->name, domain);
        return SK_EXIT_FAIL;
    case SK_EINVAL:
        sk_cli_error("users", "invalid user name '%s' or domain '%s'", o->name, domain);
        return SK_EXIT_USAGE;
    default:
        sk_cli_error("users", "store '%s': %s", sk_cli_store_name(&o->store), sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
}

/* The --algorithms value: a list, or "default" (n == 0). Returns 0, or -1
 * after saying what is wrong. */
static int parse_algorithms(const char *text, struct sk_auth_algos *out)
{
    out->n = 0;
    if (strcmp(text, "default") == 0)
        return 0;
    if (sk_auth_algos_parse(text, false, out) != 0) {
        sk_cli_error("users",
                     "--algorithms '%s': want names from MD5, SHA-256, SHA-512-256, each once, "
                     "or 'default'",
                     text);
        return -1;
    }
    return 0;
}

/* add, passwd or set, then the algorithm list when one was given. A new
 * user whose list cannot be stored is removed again: add is all or nothing. */
static int write_user(struct sk_store *st, const struct opts *o, const char *domain,
                      struct sk_slice pw, const struct sk_auth_algos *algos)
{
    int rc = 0;

    if (strcmp(o->sub, "add") == 0)
        rc = sk_store_user_add(st, domain, o->name, pw);
    else if (strcmp(o->sub, "passwd") == 0)
        rc = sk_store_user_passwd(st, domain, o->name, pw);
    if (rc == 0 && o->algorithms != NULL) {
        rc = sk_store_user_set_algorithms(st, domain, o->name, algos);
        if (rc != 0 && strcmp(o->sub, "add") == 0)
            sk_store_user_del(st, domain, o->name);
    }
    return rc;
}

static int run(const struct opts *o, const char *domain)
{
    struct sk_store *st = NULL;
    struct sk_auth_algos algos = {0};
    char pw[PW_MAX];
    long pwlen = 0;
    int rc;

    if (o->algorithms != NULL && parse_algorithms(o->algorithms, &algos) != 0)
        return SK_EXIT_USAGE;

    if (strcmp(o->sub, "add") == 0 || strcmp(o->sub, "passwd") == 0) {
        pwlen = get_password(o, pw, sizeof(pw));
        if (pwlen < 0)
            return SK_EXIT_FAIL;
    }
    rc = sk_cli_store_open("users", &o->store, &st);
    if (rc != 0) {
        explicit_bzero(pw, sizeof(pw));
        return SK_EXIT_SYSTEM;
    }
    if (strcmp(o->sub, "add") == 0 || strcmp(o->sub, "passwd") == 0 || strcmp(o->sub, "set") == 0)
        rc = write_user(st, o, domain, sk_slice_make(pw, (size_t)pwlen), &algos);
    else if (strcmp(o->sub, "del") == 0)
        rc = sk_store_user_del(st, domain, o->name);
    else
        rc = sk_store_user_list(st, domain, list_one, NULL);
    explicit_bzero(pw, sizeof(pw));
    sk_store_close(st);
    if (rc == 0 && strcmp(o->sub, "list") != 0)
        fprintf(stderr, "sipkit users: %s %s@%s: done\n", o->sub, o->name, domain);
    return report(rc, o, domain);
}

static int list_remote(json_t *answer)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(answer, "users"), i, v)
    {
        if (json_is_string(v))
            printf("%s\n", json_string_value(v));
    }
    return SK_EXIT_OK;
}

/* The same subcommands through the admin API of a running server. */
static int run_remote(const struct opts *o)
{
    char pw[PW_MAX], name[3 * SK_STORE_USER_MAX + 1], path[sizeof(name) + 32];
    json_t *body = NULL, *answer = NULL;
    const char *method = "GET";
    long pwlen = 0, status;
    int ex;

    if (o->algorithms != NULL || strcmp(o->sub, "set") == 0) {
        sk_cli_error("users", "--algorithms is not available through --server yet");
        return SK_EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/users");
    if (o->name != NULL && strcmp(o->sub, "add") != 0) {
        if (sk_cli_api_escape(o->name, name, sizeof(name)) == NULL) {
            sk_cli_error("users", "user name too long");
            return SK_EXIT_USAGE;
        }
        snprintf(path, sizeof(path), "/api/v1/users/%s", name);
    }
    if (strcmp(o->sub, "add") == 0 || strcmp(o->sub, "passwd") == 0) {
        pwlen = get_password(o, pw, sizeof(pw));
        if (pwlen < 0)
            return SK_EXIT_FAIL;
        body = strcmp(o->sub, "add") == 0
                   ? json_pack("{s:s,s:s%}", "username", o->name, "password", pw, (size_t)pwlen)
                   : json_pack("{s:s%}", "password", pw, (size_t)pwlen);
        explicit_bzero(pw, sizeof(pw));
        if (body == NULL) {
            sk_cli_error("users", "the name and password must be UTF-8 text");
            return SK_EXIT_USAGE;
        }
        method = strcmp(o->sub, "add") == 0 ? "POST" : "PUT";
    } else if (strcmp(o->sub, "del") == 0) {
        method = "DELETE";
    }
    status = sk_cli_api_call("users", &o->api, method, path, body, &answer);
    json_decref(body);
    ex = sk_cli_api_exit("users", status, answer);
    if (ex == SK_EXIT_OK && strcmp(o->sub, "list") == 0)
        ex = list_remote(answer);
    else if (ex == SK_EXIT_OK)
        fprintf(stderr, "sipkit users: %s %s@%s: done\n", o->sub, o->name,
                json_string_value(json_object_get(answer, "domain")));
    json_decref(answer);
    return ex;
}

int sk_cmd_users(int argc, char **argv)
{
    struct opts o = {.store = {.data_dir = "./data"}};
    char domain[256];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        }
    }
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    if (o.sub == NULL ||
        (strcmp(o.sub, "add") != 0 && strcmp(o.sub, "passwd") != 0 && strcmp(o.sub, "set") != 0 &&
         strcmp(o.sub, "del") != 0 && strcmp(o.sub, "list") != 0)) {
        if (o.sub == NULL)
            sk_cli_error("users", "missing subcommand");
        else
            sk_cli_error("users", "unknown subcommand '%s'", o.sub);
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    if ((strcmp(o.sub, "list") == 0) != (o.name == NULL)) {
        if (o.name != NULL)
            sk_cli_error("users", "list takes no user name");
        else
            sk_cli_error("users", "%s needs a user name", o.sub);
        return SK_EXIT_USAGE;
    }
    if (strcmp(o.sub, "set") == 0 && o.algorithms == NULL) {
        sk_cli_error("users", "set needs --algorithms LIST (or 'default')");
        return SK_EXIT_USAGE;
    }
    if (o.algorithms != NULL && strcmp(o.sub, "add") != 0 && strcmp(o.sub, "passwd") != 0 &&
        strcmp(o.sub, "set") != 0) {
        sk_cli_error("users", "--algorithms goes with add, passwd or set");
        return SK_EXIT_USAGE;
    }
    if (o.api.server != NULL)
        return run_remote(&o);
    if (o.domain == NULL)
        default_domain(domain, sizeof(domain));
    else
        snprintf(domain, sizeof(domain), "%s", o.domain);
    if (sk_cli_store_name(&o.store)[0] == '\0' || domain[0] == '\0') {
        sk_cli_error("users", "empty --data-dir, --store or --domain");
        return SK_EXIT_USAGE;
    }
    return run(&o, domain);
}
