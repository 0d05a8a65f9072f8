/* Unit tests for the SQLite store's users (store/users.c, store/db.c). */
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sipkit/store.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sk-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static struct sk_store *open_store(void)
{
    struct sk_store *s = NULL;
    assert_int_equal(sk_store_open(&s, dir, NULL), 0);
    return s;
}

static void add_lookup_passwd_del(void **state)
{
    struct sk_store *s;
    char ha1[SK_AUTH_HEX_MAX + 1], want[SK_AUTH_HEX_MAX + 1];
    (void)state;
    sk_test_alloc_hook();
    s = open_store();
    assert_int_equal(sk_store_user_add(s, "example.com", "alice", S("pw1")), 0);
    assert_int_equal(sk_store_user_add(s, "example.com", "alice", S("pw2")), SK_EEXIST);
    assert_int_equal(sk_store_user_add(s, "other.org", "alice", S("pw3")), 0);
    assert_int_equal(sk_store_user_add(s, "example.com", "bob", S("")), SK_EINVAL);
    assert_int_equal(sk_store_user_add(s, "example.com", "", S("x")), SK_EINVAL);
    assert_int_equal(sk_store_user_add(s, "example.com", "a\nb", S("x")), SK_EINVAL);
    for (int h = 0; h < SK_HASH__COUNT; h++) {
        assert_int_equal(sk_store_user_ha1(s, S("example.com"), S("alice"), h, ha1), 0);
        assert_int_equal(sk_auth_ha1(h, S("alice"), S("example.com"), S("pw1"), want), 0);
        assert_string_equal(ha1, want);
        assert_int_equal(strlen(ha1), sk_auth_hash_hexlen(h));
    }
    /* RFC 2617 §3.5 user, to pin one absolute value. */
    assert_int_equal(sk_store_user_add(s, "testrealm@host.com", "Mufasa", S("Circle Of Life")), 0);
    assert_int_equal(sk_store_user_ha1(s, S("testrealm@host.com"), S("Mufasa"), SK_HASH_MD5, ha1),
                     0);
    assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");

    assert_int_equal(sk_store_user_ha1(s, S("example.com"), S("carol"), SK_HASH_MD5, ha1),
                     SK_ENOTFOUND);
    assert_int_equal(sk_store_user_passwd(s, "example.com", "carol", S("x")), SK_ENOTFOUND);
    assert_int_equal(sk_store_user_passwd(s, "example.com", "alice", S("")), SK_EINVAL);
    assert_int_equal(sk_store_user_passwd(s, "example.com", "alice", S("new")), 0);
    assert_int_equal(sk_store_user_ha1(s, S("example.com"), S("alice"), SK_HASH_SHA256, ha1), 0);
    assert_int_equal(sk_auth_ha1(SK_HASH_SHA256, S("alice"), S("example.com"), S("new"), want), 0);
    assert_string_equal(ha1, want);
    assert_int_equal(sk_store_user_del(s, "example.com", "alice"), 0);
    assert_int_equal(sk_store_user_del(s, "example.com", "alice"), SK_ENOTFOUND);
    assert_int_equal(sk_store_user_ha1(s, S("example.com"), S("alice"), SK_HASH_MD5, ha1),
                     SK_ENOTFOUND);
    assert_int_equal(sk_store_user_ha1(s, S("other.org"), S("alice"), SK_HASH_MD5, ha1), 0);
    sk_store_close(s);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

struct listing {
    char text[512];
};

static int collect(void *arg, const char *domain, const char *user)
{
    struct listing *l = arg;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof(l->text) - n, "%s@%s;", user, domain);
    return 0;
}

static int stop_at_first(void *arg, const char *domain, const char *user)
{
    (void)arg;
    (void)domain;
    (void)user;
    return 7;
}

static void list_users(void **state)
{
    struct sk_store *s = open_store();
    struct listing l = {""};
    (void)state;
    assert_int_equal(sk_store_user_add(s, "b.org", "zed", S("x")), 0);
    assert_int_equal(sk_store_user_add(s, "a.org", "yan", S("x")), 0);
    assert_int_equal(sk_store_user_add(s, "b.org", "amy", S("x")), 0);
    assert_int_equal(sk_store_user_list(s, NULL, collect, &l), 0);
    assert_string_equal(l.text, "yan@a.org;amy@b.org;zed@b.org;");
    l.text[0] = '\0';
    assert_int_equal(sk_store_user_list(s, "b.org", collect, &l), 0);
    assert_string_equal(l.text, "amy@b.org;zed@b.org;");
    l.text[0] = '\0';
    assert_int_equal(sk_store_user_list(s, "c.org", collect, &l), 0);
    assert_string_equal(l.text, "");
    assert_int_equal(sk_store_user_list(s, NULL, stop_at_first, NULL), 7);
    sk_store_close(s);
}

/* A second connection (as `sipkit users` in another process) changes the
 * data; the first one, with a warm cache, sees it on the next lookup. */
static void sees_other_process_changes(void **state)
{
    struct sk_store *server = open_store(), *admin;
    char ha1[SK_AUTH_HEX_MAX + 1], want[SK_AUTH_HEX_MAX + 1];
    (void)state;
    assert_int_equal(sk_store_user_add(server, "example.com", "alice", S("old")), 0);
    assert_int_equal(sk_store_user_ha1(server, S("example.com"), S("alice"), SK_HASH_MD5, ha1), 0);
    assert_int_equal(sk_store_user_ha1(server, S("example.com"), S("bob"), SK_HASH_MD5, ha1),
                     SK_ENOTFOUND); /* cached as absent */

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sk_store *other;
        int rc = sk_store_open(&other, dir, NULL);
        rc = rc ? rc : sk_store_user_add(other, "example.com", "bob", S("bobpw"));
        rc = rc ? rc : sk_store_user_passwd(other, "example.com", "alice", S("new"));
        sk_store_close(other);
        _exit(rc == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    assert_int_equal(sk_store_user_ha1(server, S("example.com"), S("bob"), SK_HASH_MD5, ha1), 0);
    assert_int_equal(sk_auth_ha1(SK_HASH_MD5, S("bob"), S("example.com"), S("bobpw"), want), 0);
    assert_string_equal(ha1, want);
    assert_int_equal(sk_store_user_ha1(server, S("example.com"), S("alice"), SK_HASH_MD5, ha1), 0);
    assert_int_equal(sk_auth_ha1(SK_HASH_MD5, S("alice"), S("example.com"), S("new"), want), 0);
    assert_string_equal(ha1, want);

    /* Same with a second handle in this process. */
    assert_int_equal(sk_store_open(&admin, dir, NULL), 0);
    assert_int_equal(sk_store_user_del(admin, "example.com", "bob"), 0);
    /* bob is cached as present: the deletion shows within refresh_ms
     * (100 ms by default), without a restart. */
    usleep(150 * 1000);
    assert_int_equal(sk_store_user_ha1(server, S("example.com"), S("bob"), SK_HASH_MD5, ha1),
                     SK_ENOTFOUND);
    assert_int_equal(sk_store_user_add(admin, "example.com", "bob", S("again")), 0);
    assert_int_equal(sk_store_refresh(server), 0); /* or at once, on request */
    assert_int_equal(sk_store_user_ha1(server, S("example.com"), S("bob"), SK_HASH_MD5, ha1), 0);
    sk_store_close(admin);
    sk_store_close(server);
}

static void auth_lookup_callback_and_userhash(void **state)
{
    struct sk_store *s = open_store();
    struct sk_auth_lookup q;
    char uh[SK_AUTH_HEX_MAX + 1], want[SK_AUTH_HEX_MAX + 1];
    (void)state;
    assert_int_equal(
        sk_store_user_add(s, "api@example.org", "J\xc3\xa4s\xc3\xb8n Doe", S("Secret, or not?")),
        0);
    memset(&q, 0, sizeof(q));
    q.realm = S("api@example.org");
    q.username = S("J\xc3\xa4s\xc3\xb8n Doe");
    q.hash = SK_HASH_SHA512_256;
    assert_int_equal(sk_store_auth_lookup(s, &q), 0);
    /* RFC 7616 §3.9.2 HA1 (vectors.tsv computed_ha1). */
    assert_string_equal(q.ha1, "2d3d9f12c9f3d30011259dc5fecee005ae24de40e3e1f61806d03e65f1e6024f");
    /* Erratum 4897 userhash resolves to the name. */
    q.username = S("793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    q.is_userhash = true;
    memset(q.ha1, 0, sizeof(q.ha1));
    assert_int_equal(sk_store_auth_lookup(s, &q), 0);
    assert_string_equal(q.user, "J\xc3\xa4s\xc3\xb8n Doe");
    assert_int_equal(sk_auth_ha1(SK_HASH_SHA512_256, S("J\xc3\xa4s\xc3\xb8n Doe"),
                                 S("api@example.org"), S("Secret, or not?"), want),
                     0);
    assert_string_equal(q.ha1, want);
    assert_int_equal(sk_auth_userhash(SK_HASH_MD5, S("nobody"), S("api@example.org"), uh), 0);
    q.username = S(uh);
    q.hash = SK_HASH_MD5;
    assert_int_equal(sk_store_auth_lookup(s, &q), SK_ENOTFOUND);
    sk_store_close(s);
}

static void per_user_algorithms(void **state)
{
    struct sk_store *s = open_store();
    struct sk_auth_algos l, want;
    struct sk_auth_lookup q;
    (void)state;
    assert_int_equal(sk_store_user_add(s, "example.com", "alice", S("pw")), 0);
    assert_int_equal(sk_store_user_add(s, "example.com", "dave", S("pw")), 0);
    /* Nobody has a list: the server's list for everyone, no lookup. */
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("dave"), &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(sk_auth_algos_parse("SHA-512-256 SHA-256", false, &want), 0);
    assert_int_equal(sk_store_user_set_algorithms(s, "example.com", "dave", &want), 0);
    assert_int_equal(sk_store_user_set_algorithms(s, "example.com", "zoe", &want), SK_ENOTFOUND);
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("dave"), &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.list[0], SK_ALGO_SHA512_256);
    assert_int_equal(l.list[1], SK_ALGO_SHA256);
    /* Others and unknown users: the server's list, alike. */
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("alice"), &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("nobody"), &l), 0);
    assert_int_equal(l.n, 0);
    /* The auth lookup hands the list over with the HA1. */
    memset(&q, 0, sizeof(q));
    q.realm = S("example.com");
    q.username = S("dave");
    q.hash = SK_HASH_SHA256;
    assert_int_equal(sk_store_auth_lookup(s, &q), 0);
    assert_int_equal(q.algorithms.n, 2);
    assert_int_equal(q.algorithms.list[0], SK_ALGO_SHA512_256);
    sk_store_close(s);

    /* It survives a reopen; n == 0 returns dave to the server's list. */
    s = open_store();
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("dave"), &l), 0);
    assert_int_equal(l.n, 2);
    l.n = 0;
    assert_int_equal(sk_store_user_set_algorithms(s, "example.com", "dave", &l), 0);
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("dave"), &l), 0);
    assert_int_equal(l.n, 0);
    sk_store_close(s);
}

/* A database written before per-user algorithms gains the column. */
static void old_database_is_migrated(void **state)
{
    char cmd[1024];
    struct sk_store *s;
    struct sk_auth_algos l = {1, {SK_ALGO_SHA256}};
    char ha1[SK_AUTH_HEX_MAX + 1];
    (void)state;
    snprintf(cmd, sizeof(cmd),
             "sqlite3 '%s/sipkit.db' \"CREATE TABLE users (domain TEXT NOT NULL, username TEXT "
             "NOT NULL, ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, ha1_sha512_256 TEXT NOT "
             "NULL, uh_md5 TEXT NOT NULL, uh_sha256 TEXT NOT NULL, uh_sha512_256 TEXT NOT NULL, "
             "created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (domain, username));"
             "INSERT INTO users VALUES ('example.com','old','%032d','%064d','%064d','a','b','c',"
             "1,1);\"",
             dir, 7, 7, 7);
    assert_int_equal(system(cmd), 0);
    s = open_store();
    assert_int_equal(sk_store_user_ha1(s, S("example.com"), S("old"), SK_HASH_MD5, ha1), 0);
    assert_int_equal(sk_store_user_set_algorithms(s, "example.com", "old", &l), 0);
    l.n = 0;
    assert_int_equal(sk_store_user_algorithms(s, S("example.com"), S("old"), &l), 0);
    assert_int_equal(l.n, 1);
    sk_store_close(s);
}

static void bounded_cache(void **state)
{
    struct sk_store_options o;
    struct sk_store *s;
    char name[32], ha1[SK_AUTH_HEX_MAX + 1];
    (void)state;
    sk_test_alloc_hook();
    sk_store_options_init(&o);
    o.cache_max = 8;
    assert_int_equal(sk_store_open(&s, dir, &o), 0);
    assert_int_equal(sk_store_user_add(s, "d", "u5", S("p")), 0);
    long base = sk_test_alloc_live();
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "u%d", i);
        assert_int_equal(sk_store_user_ha1(s, S("d"), S(name), SK_HASH_MD5, ha1),
                         i == 5 ? 0 : SK_ENOTFOUND);
    }
    /* At most cache_max entries alive, whatever the number of names. */
    assert_true(sk_test_alloc_live() - base <= 8);
    assert_true(sk_test_alloc_live() - base >= 1);
    sk_store_close(s);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void files_and_errors(void **state)
{
    char path[128];
    struct stat st;
    struct sk_store *s = open_store();
    (void)state;
    sk_store_close(s);
    snprintf(path, sizeof(path), "%s/sipkit.db", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A directory created by the store is private. */
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(sk_store_open(&s, path, NULL), 0);
    sk_store_close(s);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* Unwritable and impossible directories. */
    snprintf(path, sizeof(path), "%s/ro", dir);
    assert_int_equal(mkdir(path, 0500), 0);
    s = NULL;
    if (geteuid() != 0)
        assert_int_equal(sk_store_open(&s, path, NULL), -EACCES);
    assert_null(s);
    assert_int_equal(sk_store_open(&s, "/nonexistent/a/b", NULL), -ENOENT);
    snprintf(path, sizeof(path), "%s/sipkit.db", dir);
    assert_int_equal(sk_store_open(&s, path, NULL), -ENOTDIR);
    assert_int_equal(sk_store_open(&s, "", NULL), SK_EINVAL);
}

/* sk_store_open_url(): a plain path and sqlite:DIR are SQLite in that
 * directory; another scheme is refused; a PostgreSQL URL holding a
 * password is refused before anything connects; the schema version is
 * recorded, and a newer one than this sipkit knows is refused. */
static void urls_and_schema_version(void **state)
{
    char url[160], cmd[512];
    struct sk_store *s = NULL;
    char ha1[SK_AUTH_HEX_MAX + 1];
    (void)state;
    assert_int_equal(sk_store_open_url(&s, dir, NULL), 0);
    assert_string_equal(sk_store_backend(s), "sqlite");
    assert_string_equal(sk_store_dir(s), dir);
    assert_int_equal(sk_store_user_add(s, "example.com", "u", S("pw")), 0);
    sk_store_close(s);
    snprintf(url, sizeof(url), "sqlite:%s", dir);
    assert_int_equal(sk_store_open_url(&s, url, NULL), 0);
    assert_int_equal(sk_store_user_ha1(s, S("example.com"), S("u"), SK_HASH_MD5, ha1), 0);
    /* SQLite keeps the nonce secret in the data directory, not here. */
    unsigned char secret[32];
    assert_int_equal(sk_store_secret(s, secret, sizeof(secret)), SK_ENOTFOUND);
    sk_store_close(s);
    s = NULL;
    assert_int_equal(sk_store_open_url(&s, "redis://127.0.0.1/0", NULL), SK_ESCHEME);
    assert_int_equal(sk_store_open_url(&s, "postgresql://u:secret@127.0.0.1:1/db", NULL),
                     SK_EINVAL);
    assert_int_equal(sk_store_open_url(&s, "postgresql://u@127.0.0.1:1/db?password=x", NULL),
                     SK_EINVAL);
    assert_int_equal(sk_store_open_url(&s, "", NULL), SK_EINVAL);
    assert_null(s);
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s/sipkit.db' 'SELECT version FROM schema_version'", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fgetc(p), '1');
    pclose(p);
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s/sipkit.db' 'UPDATE schema_version SET version = 99'",
             dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sk_store_open_url(&s, dir, NULL), SK_EVERSION);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(add_lookup_passwd_del, setup, teardown),
        cmocka_unit_test_setup_teardown(list_users, setup, teardown),
        cmocka_unit_test_setup_teardown(sees_other_process_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(auth_lookup_callback_and_userhash, setup, teardown),
        cmocka_unit_test_setup_teardown(per_user_algorithms, setup, teardown),
        cmocka_unit_test_setup_teardown(old_database_is_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(bounded_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(files_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(urls_and_schema_version, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
