/*
 * sipkit: the command-line front. Dispatches to one subcommand; everything
 * the subcommands do lives in libsipkit behind include/sipkit/.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/base.h>

#ifndef SK_VERSION
#define SK_VERSION "0"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("sipkit %s\n", SK_VERSION);
    return SK_EXIT_OK;
}

/* One line per subcommand; keep sorted by name. */
static const struct command commands[] = {
    {"answer", sk_cmd_answer, "wait for one incoming call, answer it, hang up when told"},
    {"bans", sk_cmd_bans, "list or lift the addresses the server banned"},
    {"call", sk_cmd_call, "place a call (INVITE, ACK, BYE; Ctrl-C while ringing cancels)"},
    {"explain", sk_cmd_explain, "explain SIP response codes (one, two side by side, --list)"},
    {"location", sk_cmd_location, "list the bindings the registrar holds"},
    {"message", sk_cmd_message, "send a text MESSAGE"},
    {"options", sk_cmd_options, "ask a SIP peer what it supports (OPTIONS)"},
    {"parse", sk_cmd_parse, "parse raw SIP messages and report what they contain"},
    {"publish", sk_cmd_publish, "publish event state such as presence (PUBLISH)"},
    {"register", sk_cmd_register, "register a contact, show the bindings, keep it fresh"},
    {"serve", sk_cmd_serve, "run the SIP server (registrar, proxy) in the foreground"},
    {"status", sk_cmd_status, "what a running server (--server URL) or its store holds"},
    {"subscribe", sk_cmd_subscribe, "subscribe to an event package and print each NOTIFY"},
    {"users", sk_cmd_users, "add, change, delete or list digest users"},
    {"version", cmd_version, "print the sipkit version"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'sipkit COMMAND --help' shows a command's options.\n");
}

void sk_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sipkit %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int sk_cli_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf;
    int err = 0;

    if (f == NULL)
        return -errno;
    buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf == NULL)
        err = -ENOMEM;
    else if (ferror(f))
        err = -EIO;
    if (f != stdin)
        fclose(f);
    if (err != 0) {
        free(buf);
        return err;
    }
    *data = buf;
    *len = n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SK_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "sipkit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return SK_EXIT_USAGE;
}
