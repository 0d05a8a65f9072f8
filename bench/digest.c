/*
 * bench_digest: digest verifications per second, per algorithm, on one
 * thread, with the credential store in the loop (sk_store_auth_lookup over
 * a real SQLite data directory, warm cache, change check on every lookup).
 *
 * For each algorithm, USERS clients each take a challenge and produce
 * PER_USER credentials (nc 1, 2, ...); these are generated and parsed
 * outside the timed part, then verified round-robin across users, so the
 * nonce-count table and the user cache see USERS distinct keys. Each
 * verification is the full server path: realm/uri/algorithm/qop checks,
 * nonce HMAC, lookup, HA2 + response hashes, constant-time compare, nc
 * replay check.
 *
 * Usage: bench_digest [TOTAL_PER_ALGORITHM]   (default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sipkit/auth.h>
#include <sipkit/msg.h>
#include <sipkit/store.h>

#define USERS 1000
#define BATCH 20000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_digest: %s: %s\n", what, sk_strerror(rc));
    exit(1);
}

static const char *challenge_value(struct sk_buf *b)
{
    /* "WWW-Authenticate: " prefix, one line */
    char *eol = strstr(b->p, "\r\n");
    if (eol != NULL)
        *eol = '\0';
    return b->p + strlen("WWW-Authenticate: ");
}

static double run_algo(struct sk_store *st, const char *dir, enum sk_auth_algo algo, long total)
{
    struct sk_auth_config cfg;
    struct sk_auth *srv;
    struct sk_auth_client *cli[USERS];
    struct sk_buf chal, *cred = calloc(BATCH, sizeof(*cred));
    struct sk_digest_hdr *h = calloc(BATCH, sizeof(*h));
    struct sk_auth_request req = {.method = SK_SLICE_LIT("REGISTER"),
                                  .uri = SK_SLICE_LIT("sip:example.com")};
    double spent = 0;
    char name[32];
    int rc;

    sk_auth_config_init(&cfg);
    cfg.realm = "example.com";
    cfg.algorithms = (struct sk_auth_algos){1, {(uint8_t)algo}};
    cfg.lookup = sk_store_auth_lookup;
    cfg.lookup_arg = st;
    cfg.data_dir = dir;
    cfg.nc_slots = 1u << 16;
    if ((rc = sk_auth_new(&srv, &cfg)) != 0)
        die("sk_auth_new", rc);
    sk_buf_init(&chal);
    for (int u = 0; u < USERS; u++) {
        struct sk_digest_hdr ch;
        snprintf(name, sizeof(name), "user%d", u);
        if ((rc = sk_auth_client_new(&cli[u], sk_slice_cstr(name), SK_SLICE_LIT("pw"))) != 0)
            die("client", rc);
        sk_buf_reset(&chal);
        sk_auth_challenge(srv, SK_AUTH_WWW, SK_SLICE_NULL, false, &chal);
        if (sk_digest_hdr_parse(sk_slice_cstr(challenge_value(&chal)), &ch) != 0 ||
            sk_auth_client_challenge(cli[u], SK_AUTH_WWW, &ch, 1) != 0)
            die("challenge", SK_EPARSE);
    }
    for (int i = 0; i < BATCH; i++)
        sk_buf_init(&cred[i]);
    for (long done = 0; done < total; done += BATCH) {
        int n = total - done < BATCH ? (int)(total - done) : BATCH;
        for (int i = 0; i < n; i++) {
            sk_buf_reset(&cred[i]);
            if (sk_auth_client_value(cli[i % USERS], SK_SLICE_LIT("example.com"), req.method,
                                     req.uri, SK_SLICE_NULL, &cred[i]) != 0 ||
                sk_digest_hdr_parse(sk_buf_slice(&cred[i]), &h[i]) != 0)
                die("credentials", SK_EPARSE);
        }
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            struct sk_auth_result res;
            if (sk_auth_verify(srv, &h[i], &req, &res) != 0) {
                fprintf(stderr, "verification %d failed: %s\n", i, sk_auth_cause_text(res.cause));
                exit(1);
            }
        }
        spent += now_s() - t0;
    }
    for (int i = 0; i < BATCH; i++)
        sk_buf_free(&cred[i]);
    for (int u = 0; u < USERS; u++)
        sk_auth_client_free(cli[u]);
    sk_buf_free(&chal);
    free(cred);
    free(h);
    sk_auth_free(srv);
    return (double)total / spent;
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    char dir[] = "/tmp/sk-bench-digest-XXXXXX", cmd[128], name[32];
    struct sk_store *st;
    int rc;

    if (total <= 0 || mkdtemp(dir) == NULL)
        return 2;
    if ((rc = sk_store_open(&st, dir, NULL)) != 0)
        die("store", rc);
    for (int u = 0; u < USERS; u++) {
        snprintf(name, sizeof(name), "user%d", u);
        if ((rc = sk_store_user_add(st, "example.com", name, SK_SLICE_LIT("pw"))) != 0)
            die("add user", rc);
    }
    printf("digest verifications per second, 1 thread, %d users, %ld per algorithm,"
           " SQLite store lookup included\n",
           USERS, total);
    for (int a = 0; a < SK_ALGO__COUNT; a++) {
        double rate = run_algo(st, dir, (enum sk_auth_algo)a, total);
        printf("  %-18s %10.0f /s\n", sk_auth_algo_name((enum sk_auth_algo)a), rate);
    }
    sk_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
