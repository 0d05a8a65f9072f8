/* Unit tests for the serve option table: defaults, flags, INI files,
 * validation, and the documented sample config staying in sync. */
#include "support.h"

#include <sipkit/server.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fmt_addr(const struct sk_addr *a)
{
    static char buf[SK_ADDR_STRLEN];
    return sk_addr_format(a, buf, sizeof(buf));
}

static void defaults(void **state)
{
    struct sk_server_config c;
    (void)state;
    sk_server_config_init(&c);
    assert_int_equal(c.nlisteners, 2);
    assert_string_equal(fmt_addr(&c.listeners[0].addr), "0.0.0.0:5060");
    assert_false(c.listeners[0].optional);
    assert_string_equal(fmt_addr(&c.listeners[1].addr), "[::]:5060");
    assert_true(c.listeners[1].optional);
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.domain, "");
    assert_int_equal(c.workers, 0);
    assert_int_equal(c.log_level, SK_LOG_INFO);
    assert_false(c.trace);
    assert_int_equal(c.tcp_idle_timeout, 300);
    assert_int_equal(c.tcp_max_connections, 4096);
    assert_int_equal(c.tcp_max_buffer, 262144);
    assert_int_equal(c.max_message_size, 65536);
    assert_int_equal(c.drain_timeout, 5);
    assert_int_equal(c.proxy_timer_c, 181);
}

static int args(struct sk_server_config *c, char *err, size_t errsz, const char *const *av)
{
    int n = 0;
    while (av[n] != NULL)
        n++;
    return sk_server_config_args(c, n, (char **)av, err, errsz);
}

static void flags(void **state)
{
    struct sk_server_config c;
    char err[256];
    const char *const av[] = {
        "serve",  "--listen", "127.0.0.1:5070", "--listen",       "[::1]:5071", "--data-dir",
        "/tmp/x", "--domain", "example.com",    "--workers=3",    "--trace",    "--log-level",
        "debug",  "--config", "ignored.conf",   "--check-config", NULL};
    (void)state;
    sk_server_config_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), av), 0);
    assert_int_equal(c.nlisteners, 2);
    assert_string_equal(fmt_addr(&c.listeners[0].addr), "127.0.0.1:5070");
    assert_string_equal(fmt_addr(&c.listeners[1].addr), "[::1]:5071");
    assert_false(c.listeners[1].optional);
    assert_string_equal(c.data_dir, "/tmp/x");
    assert_string_equal(c.domain, "example.com");
    assert_int_equal(c.workers, 3);
    assert_true(c.trace);
    assert_int_equal(c.log_level, SK_LOG_DEBUG);
}

static void bad_flags(void **state)
{
    struct sk_server_config c;
    char err[256];
    const char *const a1[] = {"serve", "--workers", "999", NULL};
    const char *const a2[] = {"serve", "--listen", "localhost:5060", NULL};
    const char *const a3[] = {"serve", "--no-such-thing", NULL};
    const char *const a4[] = {"serve", "--domain", NULL};
    const char *const a5[] = {"serve", "--listen", "1.2.3.4:65536", NULL};
    const char *const a6[] = {"serve", "--trace=maybe", NULL};
    const char *const a7[] = {"serve", "--timer-c", "180", NULL};
    const char *const a8[] = {"serve", "--timer-c", "300", NULL};
    (void)state;
    sk_server_config_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), a1), SK_EINVAL);
    assert_string_equal(err, "workers: '999' is not a number from 0 to 128");
    assert_int_equal(args(&c, err, sizeof(err), a2), SK_EINVAL);
    assert_string_equal(err, "listen: 'localhost:5060' is not ADDR:PORT (IPv6 as [::1]:5060)");
    assert_int_equal(args(&c, err, sizeof(err), a3), SK_EINVAL);
    assert_string_equal(err, "unknown option '--no-such-thing'");
    assert_int_equal(args(&c, err, sizeof(err), a4), SK_EINVAL);
    assert_string_equal(err, "--domain needs a value (DOMAIN)");
    assert_int_equal(args(&c, err, sizeof(err), a5), SK_EINVAL);
    assert_int_equal(args(&c, err, sizeof(err), a6), SK_EINVAL);
    assert_string_equal(err, "trace: 'maybe' is not true or false");
    /* RFC 3261 §16.6 step 11: Timer C is more than three minutes. */
    assert_int_equal(args(&c, err, sizeof(err), a7), SK_EINVAL);
    assert_string_equal(err, "timer_c: '180' is not a number from 181 to 86400");
    assert_int_equal(args(&c, err, sizeof(err), a8), 0);
    assert_int_equal(c.proxy_timer_c, 300);
}

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/sk-config-test-%ld.conf", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void ini_file(void **state)
{
    struct sk_server_config c;
    char err[256];
    const char *path = write_tmp("; comment\n[server]\nlisten = 127.0.0.1:5080\n"
                                 "listen = [::1]:5081 10.0.0.1\nworkers = 2\ntrace = yes\n"
                                 "[tcp]\nidle_timeout = 30\nmax_buffer = 100000\n"
                                 "[limits]\nmax_message_size = 4096\n");
    (void)state;
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.nlisteners, 3);
    assert_string_equal(fmt_addr(&c.listeners[0].addr), "127.0.0.1:5080");
    assert_string_equal(fmt_addr(&c.listeners[1].addr), "[::1]:5081");
    assert_string_equal(fmt_addr(&c.listeners[2].addr), "10.0.0.1:5060");
    assert_int_equal(c.workers, 2);
    assert_true(c.trace);
    assert_int_equal(c.tcp_idle_timeout, 30);
    assert_int_equal(c.tcp_max_buffer, 100000);
    assert_int_equal(c.max_message_size, 4096);

    /* Flags override the file; the first --listen replaces its list. */
    const char *const av[] = {"serve", "--listen", "127.0.0.2:1", "--workers", "4", NULL};
    assert_int_equal(args(&c, err, sizeof(err), av), 0);
    assert_int_equal(c.nlisteners, 1);
    assert_int_equal(c.workers, 4);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), 0);
    assert_true(c.domain[0] != '\0');

    path = write_tmp("[server]\nworkers = 1\n[tcp]\nidle = 3\n");
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), SK_EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:4: unknown option 'idle' in section [tcp]", path);
    assert_string_equal(err, want);

    path = write_tmp("[server]\nno equals sign here\n");
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), SK_EINVAL);
    snprintf(want, sizeof(want), "%s:2: syntax error", path);
    assert_string_equal(err, want);
    unlink(path);

    assert_true(sk_server_config_load(&c, "/nonexistent/sipkit.conf", err, sizeof(err)) < 0);
}

static void validation(void **state)
{
    struct sk_server_config c;
    char err[256];
    const char *const dup[] = {"serve",    "--listen",       "127.0.0.1:5060",
                               "--listen", "127.0.0.1:5060", NULL};
    const char *const small[] = {"serve", "--tcp-max-buffer", "8192", "--max-message-size", "9000",
                                 NULL};
    (void)state;
    sk_server_config_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), dup), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "listen: 127.0.0.1:5060 given twice");
    sk_server_config_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), small), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "tcp max_buffer (8192) must be at least max_message_size (9000)");
}

/* [tls]: listeners of their own kind (5061 by default), paths, the
 * verify and version words checked, and what the transport is given. */
static void tls_section(void **state)
{
    struct sk_server_config c;
    struct sk_tls_config t;
    char err[256];
    const char *path = write_tmp("[server]\nlisten = 127.0.0.1:5080\n"
                                 "[tls]\nlisten = 127.0.0.1 [::1]:5071\ncert = /etc/sip/cert.pem\n"
                                 "key = /etc/sip/key.pem\nca = /etc/sip/ca.pem\n"
                                 "verify_client = required\nmin_version = 1.3\n"
                                 "ciphers = ECDHE+AESGCM\n");
    (void)state;
    sk_server_config_init(&c);
    assert_string_equal(c.tls_verify_client, "none");
    assert_string_equal(c.tls_min_version, "1.2");
    assert_false(sk_server_config_has_tls(&c));
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.nlisteners, 3);
    assert_false(c.listeners[0].tls);
    assert_true(c.listeners[1].tls);
    assert_string_equal(fmt_addr(&c.listeners[1].addr), "127.0.0.1:5061");
    assert_string_equal(fmt_addr(&c.listeners[2].addr), "[::1]:5071");
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), 0);
    sk_server_config_tls(&c, &t);
    assert_string_equal(t.cert_file, "/etc/sip/cert.pem");
    assert_string_equal(t.key_file, "/etc/sip/key.pem");
    assert_string_equal(t.ca_file, "/etc/sip/ca.pem");
    assert_int_equal(t.verify_client, SK_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.min_version, 0x0304); /* TLS1_3_VERSION */
    assert_string_equal(t.ciphers, "ECDHE+AESGCM");

    /* --listen-tls replaces the file's TLS listeners only, --listen the others. */
    const char *const av[] = {"serve", "--listen-tls", "127.0.0.2:6061", NULL};
    assert_int_equal(args(&c, err, sizeof(err), av), 0);
    assert_int_equal(c.nlisteners, 2);
    assert_false(c.listeners[0].tls);
    assert_true(c.listeners[1].tls);
    assert_string_equal(fmt_addr(&c.listeners[1].addr), "127.0.0.2:6061");
    const char *const av2[] = {"serve", "--listen", "127.0.0.3:5060", NULL};
    assert_int_equal(args(&c, err, sizeof(err), av2), 0);
    assert_int_equal(c.nlisteners, 2);
    assert_true(c.listeners[0].tls);
    assert_string_equal(fmt_addr(&c.listeners[1].addr), "127.0.0.3:5060");

    /* Without a key file the key is read from the certificate file. */
    c.tls_key[0] = '\0';
    sk_server_config_tls(&c, &t);
    assert_string_equal(t.key_file, "/etc/sip/cert.pem");

    path = write_tmp("[tls]\nverify_client = sometimes\n");
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "tls verify_client: 'sometimes' is not none, optional or required");
    path = write_tmp("[tls]\nmin_version = 1.1\n");
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "tls min_version: '1.1' is not 1.2 or 1.3");
    path = write_tmp("[tls]\nlisten = 127.0.0.1:5061\n");
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "tls listen needs a certificate: set tls cert (--tls-cert FILE)");
    path = write_tmp("[tls]\ncert = /c.pem\nverify_client = optional\n");
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "tls verify_client = optional needs tls ca (--tls-ca FILE)");
    unlink(path);
}

/* [cluster] node_address: an IP with an optional port, written back as a
 * URI host:port (it goes into Path headers); anything else refused. */
static void cluster_node_address(void **state)
{
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"198.51.100.7", "198.51.100.7:5060"},
        {"198.51.100.7:5070", "198.51.100.7:5070"},
        {"[2001:db8::1]", "[2001:db8::1]:5060"},
        {"[2001:db8::1]:5080", "[2001:db8::1]:5080"},
    };
    struct sk_server_config c;
    char err[256];
    char line[128];
    const char *path;
    (void)state;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(line, sizeof(line), "[cluster]\nnode_address = %s\n", ok[i].in);
        path = write_tmp(line);
        sk_server_config_init(&c);
        assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
        assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), 0);
        assert_string_equal(c.cluster_node_address, ok[i].out);
    }
    path = write_tmp("[cluster]\nnode_address = node1.example.test:5060\n");
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(sk_server_config_finish(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "cluster node_address: 'node1.example.test:5060' is not IP:PORT "
                             "(IPv6 as [2001:db8::1]:5060)");
    unlink(path);
}

/* docs/sipkit.conf.example is the generated sample, and it loads back to
 * the defaults; docs/configuration.md names every option. */
static void documented(void **state)
{
    struct sk_server_config d, c;
    struct sk_buf b;
    char err[256];
    size_t len, n;
    const struct sk_option *opts = sk_server_options(&n);
    (void)state;

    sk_test_alloc_hook();
    sk_buf_init(&b);
    sk_server_config_sample(&b);
    assert_true(sk_buf_ok(&b));
    char *file = sk_test_read_file(sk_test_path("../docs/sipkit.conf.example"), &len);
    assert_non_null(file);
    assert_string_equal(file, b.p);
    free(file);
    const char *path = write_tmp(b.p);
    sk_buf_free(&b);
    sk_server_config_init(&d);
    sk_server_config_init(&c);
    assert_int_equal(sk_server_config_load(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(c.nlisteners, d.nlisteners);
    for (size_t i = 0; i < c.nlisteners; i++)
        assert_true(sk_addr_equal(&c.listeners[i].addr, &d.listeners[i].addr));
    c.listeners[1].optional = d.listeners[1].optional;
    assert_memory_equal(&c, &d, sizeof(c));

    char *doc = sk_test_read_file(sk_test_path("../docs/configuration.md"), &len);
    assert_non_null(doc);
    for (size_t i = 0; i < n; i++) {
        char key[96];
        snprintf(key, sizeof(key), "`%s`", opts[i].name);
        if (strstr(doc, key) == NULL)
            fail_msg("docs/configuration.md does not describe %s", opts[i].name);
        snprintf(key, sizeof(key), "`--%s", opts[i].flag);
        if (strstr(doc, key) == NULL)
            fail_msg("docs/configuration.md does not describe --%s", opts[i].flag);
    }
    free(doc);

    sk_buf_init(&b);
    sk_server_config_help(&b);
    assert_non_null(strstr(b.p, "  --tcp-idle-timeout SECONDS     close a TCP connection idle "
                                "this long [300] (SIGHUP)\n"));
    sk_buf_free(&b);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),    cmocka_unit_test(flags),
        cmocka_unit_test(bad_flags),   cmocka_unit_test(ini_file),
        cmocka_unit_test(validation),  cmocka_unit_test(documented),
        cmocka_unit_test(tls_section), cmocka_unit_test(cluster_node_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
