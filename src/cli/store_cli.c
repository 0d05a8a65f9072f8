/*
 * --data-dir, --store and --store-password-file for the commands that
 * open the store (store_cli.h).
 */
#include "cli/cli.h"
#include "cli/store_cli.h"

#include <string.h>

int sk_cli_opt_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
    size_t n = strlen(opt);

    if (strncmp(argv[*i], opt, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

int sk_cli_store_opt(const char *cmd, int argc, char **argv, int *i, struct sk_cli_store *o)
{
    const char *a = argv[*i];
    int r = sk_cli_opt_value(argc, argv, i, "--data-dir", &o->data_dir);

    if (r == 0)
        r = sk_cli_opt_value(argc, argv, i, "--store-password-file", &o->password_file);
    if (r == 0)
        r = sk_cli_opt_value(argc, argv, i, "--store", &o->url);
    if (r < 0)
        sk_cli_error(cmd, "%s needs a value", a);
    return r;
}

const char *sk_cli_store_name(const struct sk_cli_store *o)
{
    if (o->url != NULL && o->url[0] != '\0')
        return o->url;
    return o->data_dir != NULL ? o->data_dir : "./data";
}

int sk_cli_store_open(const char *cmd, const struct sk_cli_store *o, struct sk_store **out)
{
    struct sk_store_options so;
    const char *name = sk_cli_store_name(o);
    int rc;

    sk_store_options_init(&so);
    so.password_file = o->password_file;
    rc = sk_store_open_url(out, name, &so);
    if (rc == SK_EINVAL && o->url != NULL)
        sk_cli_error(cmd,
                     "store '%s': invalid URL, a password in it (use PGPASSWORD or "
                     "--store-password-file) or an unreadable password file",
                     name);
    else if (rc == SK_ESCHEME)
        sk_cli_error(cmd, "store '%s': want postgresql://USER@HOST:PORT/DB or sqlite:DIR", name);
    else if (rc != 0)
        sk_cli_error(cmd, "cannot use %s '%s': %s", o->url != NULL ? "store" : "data directory",
                     name, sk_strerror(rc));
    return rc;
}
