/*
 * bench_parse: messages parsed per second and MB/s for four representative
 * messages, on one core, with the work a server does on each: the full
 * parse, and for REGISTER every header a registrar touches (Contact list,
 * Expires, Authorization digest parameters, Supported/Require). Also
 * counts heap allocations per parse (the promise is zero).
 *
 *   build/bench/bench_parse [seconds per message, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

static const char reg[] =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl\r\n"
    "To: \"Alice\" <sip:alice@example.com>\r\n"
    "Call-ID: 3848276298220188511@192.0.2.10\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:alice@192.0.2.10:5060;transport=udp>;expires=3600;"
    "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n"
    "Authorization: Digest username=\"alice\", realm=\"example.com\", "
    "nonce=\"ZkYbQwAAAAB3+2vJ9mS0lq1Vd3XfMeB2\", uri=\"sip:example.com\", "
    "response=\"9c3c0f4f8e4d0c2b6e4c5a1b2d3e4f50a1b2c3d4e5f60718293a4b5c6d7e8f90\", "
    "algorithm=SHA-256, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n"
    "Supported: path, outbound\r\n"
    "User-Agent: sipkit-bench/1.0\r\n"
    "Expires: 3600\r\n"
    "Content-Length: 0\r\n\r\n";

static const char invite[] =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.10:5060>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, SUBSCRIBE, NOTIFY\r\n"
    "Supported: replaces, timer\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 134\r\n\r\n"
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\n"
    "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

static const char ok200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2d4790.1;received=192.0.2.1\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060\r\n"
    "Record-Route: <sip:proxy.example.com;lr>\r\n"
    "To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Length: 0\r\n\r\n";

static const char notify[] =
    "NOTIFY sip:alice@192.0.2.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnotify1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:bob@example.com>;tag=ffd2\r\n"
    "To: <sip:alice@example.com>;tag=xfg9\r\n"
    "Call-ID: 2010@192.0.2.10\r\n"
    "CSeq: 3 NOTIFY\r\n"
    "Event: presence\r\n"
    "Subscription-State: active;expires=599\r\n"
    "Contact: <sip:pres.example.com>\r\n"
    "Content-Type: application/pidf+xml\r\n"
    "Content-Length: 112\r\n\r\n"
    "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
    "entity=\"sip:bob@example.com\"><tuple id=\"t1\"/>";

static unsigned long allocs;
static void *count_malloc(size_t n)
{
    allocs++;
    return malloc(n);
}
static void *count_realloc(void *p, size_t n)
{
    allocs++;
    return realloc(p, n);
}

/* What a registrar reads beyond the parse itself. */
static int registrar_view(const struct sk_msg *m)
{
    struct sk_hdr_iter it;
    struct sk_contact c;
    struct sk_digest_hdr d;
    uint64_t expires;
    int n = 0;

    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    while (sk_msg_contact_next(&it, &c) == 1)
        n++;
    n += sk_msg_get_uint(m, SK_HDR_EXPIRES, UINT32_MAX, &expires);
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_AUTHORIZATION);
    if (h != NULL && sk_digest_hdr_parse(h->value, &d) == 0)
        n++;
    n += sk_msg_has_token(m, SK_HDR_SUPPORTED, "path");
    return n;
}

static double now_s(void)
{
    return (double)sk_now_ms() / 1000.0;
}

static void run(const char *name, const char *text, double seconds, bool registrar)
{
    struct sk_msg m;
    size_t len = strlen(text);
    unsigned long n = 0, sink = 0;
    double t0, t;

    sk_msg_init(&m);
    if (sk_msg_parse(&m, text, len, SK_MSG_DATAGRAM, NULL) != 0) {
        fprintf(stderr, "%s does not parse\n", name);
        exit(1);
    }
    allocs = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 10000; i++) {
            sink += (unsigned long)sk_msg_parse(&m, text, len, SK_MSG_DATAGRAM, NULL);
            if (registrar)
                sink += (unsigned long)registrar_view(&m);
        }
        n += 10000;
        t = now_s() - t0;
    } while (t < seconds);
    printf("%-28s %6zu bytes  %10.0f msg/s  %8.1f MB/s  %.2f allocs/parse  (check %lu)\n", name,
           len, (double)n / t, (double)n * (double)len / t / 1e6, (double)allocs / (double)n,
           sink % 10);
    sk_msg_free(&m);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;

    sk_set_allocator(count_malloc, count_realloc, free);
    printf("sipkit message parser, one core, %.1f s per message\n", seconds);
    run("REGISTER (registrar view)", reg, seconds, true);
    run("REGISTER (parse only)", reg, seconds, false);
    run("INVITE with SDP", invite, seconds, false);
    run("200 OK", ok200, seconds, false);
    run("NOTIFY with PIDF", notify, seconds, false);
    return 0;
}
