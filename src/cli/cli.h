/*
 * The sipkit command-line front end: one function per subcommand, each
 * taking the arguments after the subcommand name (argv[0] is the
 * subcommand) and returning the process exit status.
 */
#ifndef SK_CLI_H
#define SK_CLI_H

#include <stddef.h>

/* Exit statuses shared by every subcommand (docs/cli.md). */
enum sk_exit {
    SK_EXIT_OK = 0,      /* success (a 2xx final response for client commands) */
    SK_EXIT_FAIL = 1,    /* a negative outcome: invalid message, non-2xx final, ... */
    SK_EXIT_USAGE = 2,   /* bad command line */
    SK_EXIT_TIMEOUT = 3, /* no response in time */
    SK_EXIT_NETWORK = 4, /* socket or name resolution error */
    SK_EXIT_AUTH = 5,    /* credentials refused (a second 401/407) */
    SK_EXIT_SYSTEM = 6,  /* storage, configuration or system error */
};

/* Subcommands (one file each: src/cli/cmd_<name>.c). */
int sk_cmd_answer(int argc, char **argv);
int sk_cmd_call(int argc, char **argv);
int sk_cmd_explain(int argc, char **argv);
int sk_cmd_location(int argc, char **argv);
int sk_cmd_message(int argc, char **argv); /* cmd_options.c */
int sk_cmd_options(int argc, char **argv);
int sk_cmd_parse(int argc, char **argv);
int sk_cmd_publish(int argc, char **argv);
int sk_cmd_register(int argc, char **argv);
int sk_cmd_serve(int argc, char **argv);
int sk_cmd_status(int argc, char **argv);
int sk_cmd_subscribe(int argc, char **argv);
int sk_cmd_users(int argc, char **argv);
int sk_cmd_bans(int argc, char **argv);

/* Print "sipkit CMD: <message>" to stderr. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sk_cli_error(const char *cmd, const char *fmt, ...);

/* "--opt VALUE" or "--opt=VALUE" at argv[*i]: returns 1 (value in *out,
 * *i past it), 0 when argv[*i] is another option, -1 when the value is
 * missing. (store_cli.c) */
int sk_cli_opt_value(int argc, char **argv, int *i, const char *opt, const char **out);

/* Read a whole file ("-" = stdin) into a heap buffer. Returns 0 or -errno. */
int sk_cli_read_file(const char *path, char **data, size_t *len);

#endif
