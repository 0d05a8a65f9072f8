/*
 * The store options shared by the commands that open the store themselves
 * (`sipkit users`, `location`): --data-dir DIR (SQLite, default ./data),
 * --store URL (postgresql://USER@HOST:PORT/DB, sqlite:DIR or a directory)
 * and --store-password-file FILE. No option takes a password: it comes
 * from the file, PGPASSWORD or ~/.pgpass, never from the command line.
 */
#ifndef SK_CLI_STORE_H
#define SK_CLI_STORE_H

#include <sipkit/store.h>

struct sk_cli_store {
    const char *data_dir; /* default "./data" */
    const char *url;      /* NULL: data_dir */
    const char *password_file;
};

#define SK_CLI_STORE_USAGE                                                                         \
    "  --data-dir DIR    the server's data directory, SQLite (default ./data)\n"                   \
    "  --store URL       the server's store instead: postgresql://USER@HOST:PORT/DB\n"             \
    "                    (password from PGPASSWORD, ~/.pgpass or --store-password-file)\n"         \
    "                    or sqlite:DIR\n"                                                          \
    "  --store-password-file FILE  PostgreSQL password, the file's first line\n"

/* Take argv[*i] (and its value) when it is one of the options above:
 * returns 1 when taken, 0 when not ours, -1 (reported) when its value is
 * missing. */
int sk_cli_store_opt(const char *cmd, int argc, char **argv, int *i, struct sk_cli_store *o);
/* Open the store the options name; reports a failure on stderr. Returns
 * 0 or the error of sk_store_open_url(). */
int sk_cli_store_open(const char *cmd, const struct sk_cli_store *o, struct sk_store **out);
/* What the options name, for messages: the URL or the directory. */
const char *sk_cli_store_name(const struct sk_cli_store *o);

#endif
