/*
 * Message parser cases written from the RFC 3261 grammar: each case is a
 * message, the verdict (a cause, or none) and the fields it must yield.
 * Messages are written with "\n" and sent with CRLF unless marked raw.
 *
 * Field checks are "key=value" items separated by '|'; see field().
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

#include "msgfields.h"

struct msg_case {
    const char *name;
    const char *text;
    enum sk_msg_cause cause;
    enum sk_hdr_id cause_hdr;
    const char *checks;
    bool raw; /* send text as is, no LF -> CRLF */
};

#define VIA          "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\n"
#define FROM         "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
#define TO           "To: Bob <sip:bob@biloxi.com>\n"
#define CID          "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
#define MF           "Max-Forwards: 70\n"
#define HDRS(method) VIA MF TO FROM CID "CSeq: 314159 " method "\n"
#define REQ(method)  method " sip:bob@biloxi.com SIP/2.0\n" HDRS(method)
#define RESP(status) "SIP/2.0 " status "\n" VIA TO FROM CID "CSeq: 314159 INVITE\n"

static const struct msg_case cases[] = {
    /* ---- valid requests ---- */
    {"minimal INVITE", REQ("INVITE") "Content-Length: 0\n\n", SK_CAUSE_NONE, 0,
     "method=INVITE|ruri.user=bob|ruri.host=biloxi.com|via.transport=UDP"
     "|via.host=pc33.atlanta.com|via.branch=z9hG4bK776asdhds|from.tag=1928301774"
     "|from.display=Alice|to.tag=|call_id=a84b4c76e66710@pc33.atlanta.com|cseq.num=314159"
     "|cseq.method=INVITE|max_forwards=70|content_length=0|nhdrs=7|body="},
    {"no Content-Length on a datagram takes the rest as body", REQ("MESSAGE") "\nhello",
     SK_CAUSE_NONE, 0, "body=hello|content_length=-1"},
    {"body framed by Content-Length", REQ("MESSAGE") "Content-Length: 5\n\nhello", SK_CAUSE_NONE, 0,
     "body=hello|content_length=5"},
    {"extra datagram bytes past Content-Length are ignored",
     REQ("MESSAGE") "Content-Length: 2\n\nhello", SK_CAUSE_NONE, 0, "body=he|trailing=llo"},
    {"compact forms",
     "INVITE sip:bob@biloxi.com SIP/2.0\nv: SIP/2.0/TCP h.example.com;branch=z9hG4bKc\n"
     "f: <sip:a@atlanta.com>;tag=1\nt: sip:bob@biloxi.com\ni: cid1\nCSeq: 1 INVITE\nl: 0\n"
     "m: <sip:a@10.0.0.1>\nc: application/sdp\nk: 100rel\n\n",
     SK_CAUSE_NONE, 0,
     "via.transport=TCP|from.tag=1|to.uri.user=bob|call_id=cid1|content_length=0"
     "|hdr:Contact=<sip:a@10.0.0.1>|hdr:Content-Type=application/sdp|hdr:Supported=100rel"},
    {"header names are case-insensitive",
     "OPTIONS sip:bob@biloxi.com SIP/2.0\nVIA: SIP/2.0/UDP h;branch=z9hG4bKx\nfrom: "
     "<sip:a@b>;tag=9\n"
     "tO: <sip:c@d>\ncall-id: x\ncseq: 2 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "via.host=h|from.tag=9|to.uri.host=d|cseq.num=2|call_id=x"},
    {"line folding in a header value",
     "OPTIONS sip:bob@biloxi.com SIP/2.0\n" VIA FROM TO CID "CSeq: 7\n   OPTIONS\nSubject: I know\n"
     " you're there,\n\tpick up!\n\n",
     SK_CAUSE_NONE, 0,
     "cseq.num=7|cseq.method=OPTIONS|hdr:Subject=I know\r\n you're there,\r\n\tpick up!"},
    {"whitespace before the colon", REQ("OPTIONS") "Subject   :   hi  \n\n", SK_CAUSE_NONE, 0,
     "hdr:Subject=hi"},
    {"empty header value", REQ("OPTIONS") "Subject:\nSupported:\n\n", SK_CAUSE_NONE, 0,
     "hdr:Subject=|hdr:Supported="},
    {"unknown header kept as written", REQ("OPTIONS") "X-Weird_Name!: a, b ,c\n\n", SK_CAUSE_NONE,
     0, "hdr:X-Weird_Name!=a, b ,c"},
    {"several Vias in one header",
     "BYE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP first.example.com:5061"
     ";branch=z9hG4bK1, SIP/2.0/TCP second.example.com;branch=z9hG4bK2\n" FROM TO CID
     "CSeq: 3 BYE\n\n",
     SK_CAUSE_NONE, 0,
     "via.host=first.example.com|via.port=5061|via.branch=z9hG4bK1|vias=2|via2.host=second.example."
     "com"},
    {"Vias across repeated headers",
     "BYE sip:b@h SIP/2.0\n" VIA
     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb;received=192.0.2.9\n" FROM TO CID
     "CSeq: 3 BYE\n\n",
     SK_CAUSE_NONE, 0, "vias=2|via2.host=192.0.2.1|via2.received=192.0.2.9"},
    {"Via with rport and received",
     "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;rport;"
     "branch=z9hG4bKr\n" FROM TO CID "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "via.rport=0|via.has_rport=1|via.port=5060"},
    {"Via with IPv6 sent-by",
     "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::9:1]:5070;"
     "branch=z9hG4bK6\n" FROM TO CID "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "via.host=[2001:db8::9:1]|via.port=5070"},
    {"Request-URI with IPv6 host", "OPTIONS sip:[2001:db8::10]:5060 SIP/2.0\n" HDRS("OPTIONS") "\n",
     SK_CAUSE_NONE, 0, "ruri.host=[2001:db8::10]|ruri.port=5060|ruri.user="},
    {"sips Request-URI with params",
     "OPTIONS sips:alice@atlanta.com;transport=tcp;lr SIP/2.0\n" HDRS("OPTIONS") "\n",
     SK_CAUSE_NONE, 0, "ruri.scheme=sips|ruri.params=transport=tcp;lr"},
    {"tel Request-URI", "INVITE tel:+1-201-555-0123 SIP/2.0\n" HDRS("INVITE") "\n", SK_CAUSE_NONE,
     0, "ruri.scheme=tel|ruri.user=+1-201-555-0123"},
    {"unknown scheme parses (the server answers 416)",
     "OPTIONS mailto:bob@biloxi.com SIP/2.0\n" HDRS("OPTIONS") "\n", SK_CAUSE_NONE, 0,
     "ruri.scheme=other"},
    {"escaped user part", "OPTIONS sip:%61lice@atlanta.com SIP/2.0\n" HDRS("OPTIONS") "\n",
     SK_CAUSE_NONE, 0, "ruri.user=%61lice"},
    {"user part with password",
     "OPTIONS sip:alice:secret@atlanta.com SIP/2.0\n" HDRS("OPTIONS") "\n", SK_CAUSE_NONE, 0,
     "ruri.user=alice|ruri.password=secret"},
    {"extension method", "FOO sip:bob@biloxi.com SIP/2.0\n" HDRS("FOO") "\n", SK_CAUSE_NONE, 0,
     "method=FOO|method_id=0|cseq.method=FOO"},
    {"method names are case-sensitive", "invite sip:bob@biloxi.com SIP/2.0\n" HDRS("invite") "\n",
     SK_CAUSE_NONE, 0, "method=invite|method_id=0"},
    {"quoted display name with escapes",
     "OPTIONS sip:b@h SIP/2.0\n" VIA "From: \"Bob \\\"the\\\" Builder\" <sip:bob@h>;tag=77\n" TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "from.tag=77|from.uri.user=bob"},
    {"addr-spec From with tag parameter",
     "OPTIONS sip:b@h SIP/2.0\n" VIA "From: sip:carol@chicago.com;tag=887s\n" TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "from.tag=887s|from.uri.user=carol|from.uri.params="},
    {"display name without space before <",
     "OPTIONS sip:b@h SIP/2.0\n" VIA "From: caller<sip:caller@example.com>;tag=323\n" TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "from.display=caller|from.tag=323"},
    {"leading CRLFs before the start line are skipped", "\n\n" REQ("OPTIONS") "\n", SK_CAUSE_NONE,
     0, "method=OPTIONS"},
    {"bare LF line ends are tolerated",
     "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKl\nFrom: <sip:a@b>;tag=1\n"
     "To: <sip:c@d>\nCall-ID: lf\nCSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "call_id=lf|cseq.num=1", true},
    {"Max-Forwards zero parses (the server answers 483)",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 OPTIONS\nMax-Forwards: 0\n\n",
     SK_CAUSE_NONE, 0, "max_forwards=0"},
    {"Max-Forwards absent (RFC 2543 peers)",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 OPTIONS\n\n", SK_CAUSE_NONE, 0,
     "max_forwards=-1"},
    {"CSeq at the largest allowed value",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 2147483647 OPTIONS\n\n", SK_CAUSE_NONE, 0,
     "cseq.num=2147483647"},
    {"Call-ID with word characters",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO
     "Call-ID: a.b-c!d%e*f_g+h`i'j~k(l)m<n>o:p\\q\"r/s[t]u?v{w}x@host\nCSeq: 1 OPTIONS\n\n",
     SK_CAUSE_NONE, 0, "call_id=a.b-c!d%e*f_g+h`i'j~k(l)m<n>o:p\\q\"r/s[t]u?v{w}x@host"},
    {"multi-valued Contact across headers",
     REQ("REGISTER") "Contact: <sip:a@10.0.0.1>;expires=60;q=0.5, \"X\" <sip:b@10.0.0.2>\nContact: "
                     "sip:c@10.0.0.3\n\n",
     SK_CAUSE_NONE, 0,
     "contacts=3|contact1.expires=60|contact1.q=500|contact2.display=X"
     "|contact3.host=10.0.0.3"},
    {"Contact star", REQ("REGISTER") "Contact: *\nExpires: 0\n\n", SK_CAUSE_NONE, 0,
     "contacts=1|contact1.star=1|expires=0"},
    {"body with a NUL byte is fine", REQ("MESSAGE") "Content-Length: 3\n\na\0b", SK_CAUSE_NONE, 0,
     "content_length=3"},
    /* ---- valid responses ---- */
    {"200 OK", RESP("200 OK") "Content-Length: 0\n\n", SK_CAUSE_NONE, 0,
     "status=200|reason=OK|cseq.method=INVITE|is_request=0"},
    {"empty reason phrase", RESP("100 ") "\n", SK_CAUSE_NONE, 0, "status=100|reason="},
    {"UTF-8 reason phrase", RESP("200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe") "\n", SK_CAUSE_NONE, 0,
     "status=200|reason== 2**3 * 5**2 \xd0\xbd\xd0\xbe"},
    {"6xx response", RESP("603 Decline") "\n", SK_CAUSE_NONE, 0, "status=603"},
    {"status line without reason tolerated", RESP("180") "\n", SK_CAUSE_NONE, 0,
     "status=180|reason="},
    {"response CSeq method may differ", "SIP/2.0 200 OK\n" VIA FROM TO CID "CSeq: 1 BYE\n\n",
     SK_CAUSE_NONE, 0, "cseq.method=BYE"},
    /* ---- invalid: start line ---- */
    {"empty input", "", SK_CAUSE_EMPTY, 0, ""},
    {"only CRLFs", "\n\n\n", SK_CAUSE_EMPTY, 0, ""},
    {"start line without SP", "OPTIONS\n" HDRS("OPTIONS") "\n", SK_CAUSE_START_LINE, 0, ""},
    {"two spaces between method and URI", "OPTIONS  sip:b@h SIP/2.0\n" HDRS("OPTIONS") "\n",
     SK_CAUSE_START_LINE, 0, ""},
    {"trailing space after version", "OPTIONS sip:b@h SIP/2.0 \n" HDRS("OPTIONS") "\n",
     SK_CAUSE_START_LINE, 0, ""},
    {"missing version", "OPTIONS sip:b@h\n" HDRS("OPTIONS") "\n", SK_CAUSE_START_LINE, 0, ""},
    {"version garbage", "OPTIONS sip:b@h HTTP/1.1\n" HDRS("OPTIONS") "\n", SK_CAUSE_START_LINE, 0,
     ""},
    {"unknown SIP version", "OPTIONS sip:b@h SIP/7.0\n" HDRS("OPTIONS") "\n", SK_CAUSE_VERSION, 0,
     "is_request=1|respondable=1"},
    {"response with unknown SIP version", "SIP/3.0 200 OK\n" VIA TO FROM CID "CSeq: 1 INVITE\n\n",
     SK_CAUSE_VERSION, 0, ""},
    {"bad method characters", "OPT(ONS sip:b@h SIP/2.0\n" HDRS("OPTIONS") "\n", SK_CAUSE_METHOD, 0,
     ""},
    {"Request-URI in angle brackets", "INVITE <sip:bob@biloxi.com> SIP/2.0\n" HDRS("INVITE") "\n",
     SK_CAUSE_REQUEST_URI, 0, ""},
    {"Request-URI with headers",
     "INVITE sip:bob@biloxi.com?Route=%3Csip:x%3E SIP/2.0\n" HDRS("INVITE") "\n",
     SK_CAUSE_REQUEST_URI, 0, ""},
    {"Request-URI without host", "INVITE sip: SIP/2.0\n" HDRS("INVITE") "\n", SK_CAUSE_REQUEST_URI,
     0, ""},
    {"Request-URI port out of range",
     "INVITE sip:bob@biloxi.com:65536 SIP/2.0\n" HDRS("INVITE") "\n", SK_CAUSE_REQUEST_URI, 0, ""},
    {"Request-URI bad escape", "INVITE sip:b%4@biloxi.com SIP/2.0\n" HDRS("INVITE") "\n",
     SK_CAUSE_REQUEST_URI, 0, ""},
    {"Request-URI IPv6 without brackets", "INVITE sip:2001:db8::1 SIP/2.0\n" HDRS("INVITE") "\n",
     SK_CAUSE_REQUEST_URI, 0, ""},
    {"status code too large", RESP("700 Big") "\n", SK_CAUSE_STATUS_CODE, 0, ""},
    {"status code too small", RESP("099 Small") "\n", SK_CAUSE_STATUS_CODE, 0, ""},
    {"status code four digits", RESP("2000 OK") "\n", SK_CAUSE_STATUS_CODE, 0, ""},
    {"status code not a number", RESP("2x0 OK") "\n", SK_CAUSE_STATUS_CODE, 0, ""},
    {"no line terminator at all", "OPTIONS sip:b@h SIP/2.0", SK_CAUSE_START_LINE, 0, ""},
    {"NUL byte in the start line", "OPTIONS sip:b\0@h SIP/2.0\n" HDRS("OPTIONS") "\n",
     SK_CAUSE_NUL_BYTE, 0, ""},
    /* ---- invalid: header section ---- */
    {"header line without colon", REQ("OPTIONS") "Foobar roobar\n\n", SK_CAUSE_HEADER_LINE, 0, ""},
    {"header with empty name", REQ("OPTIONS") ": value\n\n", SK_CAUSE_HEADER_LINE, 0, ""},
    {"header name with a space inside", REQ("OPTIONS") "Sub ject: x\n\n", SK_CAUSE_HEADER_LINE, 0,
     ""},
    {"continuation line before any header",
     "OPTIONS sip:b@h SIP/2.0\n  folded\n" HDRS("OPTIONS") "\n", SK_CAUSE_HEADER_LINE, 0, ""},
    {"header section cut inside a line", REQ("OPTIONS") "Subject: cut", SK_CAUSE_NO_END_OF_HEADERS,
     0, ""},
    {"NUL byte in a header", REQ("OPTIONS") "Subject: a\0b\n\n", SK_CAUSE_NUL_BYTE, 0, ""},
    {"missing Via parses but cannot be answered",
     "OPTIONS sip:b@h SIP/2.0\n" FROM TO CID "CSeq: 1 OPTIONS\n\n", SK_CAUSE_NONE, 0,
     "respondable=0|vias=0"},
    {"missing empty line at the end of a datagram, answerable",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 OPTIONS\n", SK_CAUSE_NO_END_OF_HEADERS, 0,
     "respondable=1|cseq.num=1"},
    {"missing empty line after a header line cut short",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 OPTIONS", SK_CAUSE_NO_END_OF_HEADERS, 0,
     "respondable=0"},
    {"missing From", "OPTIONS sip:b@h SIP/2.0\n" VIA TO CID "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MISSING_HDR, SK_HDR_FROM, ""},
    {"missing To", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM CID "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MISSING_HDR, SK_HDR_TO, ""},
    {"missing Call-ID", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MISSING_HDR, SK_HDR_CALL_ID, ""},
    {"missing CSeq", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "\n", SK_CAUSE_MISSING_HDR,
     SK_HDR_CSEQ, ""},
    {"duplicate Call-ID", REQ("OPTIONS") "Call-ID: other\n\n", SK_CAUSE_DUPLICATE_HDR,
     SK_HDR_CALL_ID, ""},
    {"duplicate To through the compact form", REQ("OPTIONS") "t: <sip:x@y>\n\n",
     SK_CAUSE_DUPLICATE_HDR, SK_HDR_TO, ""},
    {"duplicate CSeq can still be answered", REQ("OPTIONS") "CSeq: 2 OPTIONS\n\n",
     SK_CAUSE_DUPLICATE_HDR, SK_HDR_CSEQ, "respondable=1|cseq.num=314159"},
    {"duplicate Max-Forwards", REQ("OPTIONS") "Max-Forwards: 5\n\n", SK_CAUSE_DUPLICATE_HDR,
     SK_HDR_MAX_FORWARDS, ""},
    {"two Content-Length headers", REQ("OPTIONS") "Content-Length: 0\nl: 0\n\n",
     SK_CAUSE_DUPLICATE_HDR, SK_HDR_CONTENT_LENGTH, ""},
    {"malformed top Via",
     "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0 h;branch=z9hG4bKx\n" FROM TO CID "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_VIA, ""},
    {"Via with empty host",
     "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP ;branch=z9hG4bKx\n" FROM TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_VIA, ""},
    {"Via port out of range",
     "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h:99999;branch=z9hG4bKx\n" FROM TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_VIA, ""},
    {"unterminated quote in From",
     "OPTIONS sip:b@h SIP/2.0\n" VIA "From: \"Alice <sip:alice@a.com>;tag=1\n" TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_FROM, ""},
    {"From URI with a space",
     "OPTIONS sip:b@h SIP/2.0\n" VIA "From: <sip:al ice@a.com>;tag=1\n" TO CID
     "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_FROM, ""},
    {"To without closing >",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM "To: <sip:bob@biloxi.com\n" CID "CSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_TO, ""},
    {"empty Call-ID", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO "Call-ID:\nCSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_CALL_ID, ""},
    {"Call-ID with a space",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO "Call-ID: a b\nCSeq: 1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_CALL_ID, ""},
    {"CSeq without method", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_CSEQ, "respondable=1"},
    {"malformed CSeq without Via cannot be answered",
     "OPTIONS sip:b@h SIP/2.0\n" FROM TO CID "CSeq: one OPTIONS\n\n", SK_CAUSE_MALFORMED_HDR,
     SK_HDR_CSEQ, "respondable=0"},
    {"CSeq at 2^31", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 2147483648 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_CSEQ, ""},
    {"CSeq with a huge number",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 36893488147419103232 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_CSEQ, ""},
    {"negative CSeq", "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: -1 OPTIONS\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_CSEQ, ""},
    {"CSeq method differs from the request's",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 INVITE\n\n", SK_CAUSE_CSEQ_METHOD,
     SK_HDR_CSEQ, "respondable=1"},
    {"Max-Forwards not a number",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 OPTIONS\nMax-Forwards: seventy\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_MAX_FORWARDS, ""},
    {"Max-Forwards 300",
     "OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1 OPTIONS\nMax-Forwards: 300\n\n",
     SK_CAUSE_MALFORMED_HDR, SK_HDR_MAX_FORWARDS, ""},
    {"negative Content-Length", REQ("MESSAGE") "Content-Length: -999\n\nabc",
     SK_CAUSE_CONTENT_LENGTH, SK_HDR_CONTENT_LENGTH, ""},
    {"Content-Length with letters", REQ("MESSAGE") "Content-Length: 1x\n\nabc",
     SK_CAUSE_CONTENT_LENGTH, SK_HDR_CONTENT_LENGTH, ""},
    {"Content-Length larger than the body", REQ("MESSAGE") "Content-Length: 10\n\nabc",
     SK_CAUSE_BODY_SHORT, SK_HDR_CONTENT_LENGTH, ""},
    {"Content-Length beyond any limit", REQ("MESSAGE") "Content-Length: 99999999999\n\nabc",
     SK_CAUSE_TOO_LARGE, SK_HDR_CONTENT_LENGTH, ""},
};

static char *to_crlf(const char *text, size_t textlen, size_t *outlen)
{
    char *out = malloc(textlen * 2 + 1);
    size_t n = 0;

    for (size_t i = 0; i < textlen; i++) {
        if (text[i] == '\n')
            out[n++] = '\r';
        out[n++] = text[i];
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* Length of a case text: the literal may contain NUL bytes, so find the
 * end by the terminating sequence the cases use; fixed here by sizeof. */
static size_t case_len(const struct msg_case *c);

static void run_case(const struct msg_case *c)
{
    size_t tlen = case_len(c), len;
    char *buf = c->raw ? NULL : to_crlf(c->text, tlen, &len);
    const char *data = c->raw ? c->text : buf;
    struct sk_msg m;
    int r;

    if (c->raw)
        len = tlen;
    sk_msg_init(&m);
    r = sk_msg_parse(&m, data, len, SK_MSG_DATAGRAM, NULL);
    if (m.cause != c->cause || (c->cause_hdr != 0 && m.cause_hdr != c->cause_hdr)) {
        char why[128];
        sk_msg_error(&m, why, sizeof(why));
        print_error("case '%s': cause %d (%s, hdr %d), expected %d (hdr %d)\n", c->name, m.cause,
                    why, m.cause_hdr, c->cause, c->cause_hdr);
        fail();
    }
    assert_int_equal(r == 0, c->cause == SK_CAUSE_NONE);
    sk_test_check_fields(c->name, &m, c->checks);
    sk_msg_free(&m);
    free(buf);
}

/* Cases whose text holds one NUL byte say so in their name. */
static size_t case_len(const struct msg_case *c)
{
    size_t n = strlen(c->text);

    if (strstr(c->name, "NUL") != NULL)
        n += 1 + strlen(c->text + n + 1);
    return n;
}

static void all_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    print_message("%zu message cases passed\n", sizeof(cases) / sizeof(cases[0]));
}

static void error_phrases(void **state)
{
    struct sk_msg m;
    char why[128];
    size_t len;
    char *buf =
        to_crlf(REQ("OPTIONS") "Call-ID: x\n\n", strlen(REQ("OPTIONS") "Call-ID: x\n\n"), &len);
    (void)state;

    sk_msg_init(&m);
    assert_int_equal(sk_msg_parse(&m, buf, len, SK_MSG_DATAGRAM, NULL), SK_EPARSE);
    assert_int_equal(sk_msg_error(&m, why, sizeof(why)), 400);
    assert_string_equal(why, "Duplicate Call-ID");
    free(buf);

    buf = to_crlf("OPTIONS sip:b@h SIP/7.0\n" HDRS("OPTIONS") "\n",
                  strlen("OPTIONS sip:b@h SIP/7.0\n" HDRS("OPTIONS") "\n"), &len);
    assert_int_equal(sk_msg_parse(&m, buf, len, SK_MSG_DATAGRAM, NULL), SK_EVERSION);
    assert_int_equal(sk_msg_error(&m, why, sizeof(why)), 505);
    free(buf);

    buf = to_crlf("OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1\n\n",
                  strlen("OPTIONS sip:b@h SIP/2.0\n" VIA FROM TO CID "CSeq: 1\n\n"), &len);
    assert_int_equal(sk_msg_parse(&m, buf, len, SK_MSG_DATAGRAM, NULL), SK_EPARSE);
    sk_msg_error(&m, why, sizeof(why));
    assert_string_equal(why, "Malformed CSeq");
    free(buf);
    sk_msg_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_cases),
        cmocka_unit_test(error_phrases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
