/*
 * The one character class table of the message layer: for every octet,
 * the RFC 3261 §25.1 sets it belongs to (bits SK__CC_* in value.h), plus a
 * few sets the scanners use to jump over runs of ordinary bytes. It is a
 * constant computed by the compiler, so every thread may read it and no
 * start-up code fills it.
 */
#include "msg/value.h"

#define IN(c, lo, hi) ((c) >= (lo) && (c) <= (hi))
#define IS_ALPHA(c)   (IN(c, 'a', 'z') || IN(c, 'A', 'Z'))
#define IS_DIGIT(c)   IN(c, '0', '9')
#define IS_HEX(c)     (IS_DIGIT(c) || IN(c, 'a', 'f') || IN(c, 'A', 'F'))
#define IS_MARK(c)                                                                                 \
    ((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || (c) == '*' ||           \
     (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_TOKEN(c)                                                                                \
    (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' ||         \
     (c) == '*' || (c) == '_' || (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_PASS(c) ((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_USER(c) (IS_PASS(c) || (c) == ';' || (c) == '?' || (c) == '/')
#define IS_PARAM(c)                                                                                \
    ((c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' || (c) == '+' || (c) == '$')
#define IS_HNV(c)                                                                                  \
    ((c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '+' || (c) == '$')
#define IS_RESERVED(c)                                                                             \
    ((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '@' || (c) == '&' ||           \
     (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
/* word (Call-ID, §25.1): token chars plus ( ) < > : \ DQUOTE / [ ] ? { } */
#define IS_WORD(c)                                                                                 \
    (IS_TOKEN(c) || (c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || (c) == ':' ||          \
     (c) == '\\' || (c) == '"' || (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' ||          \
     (c) == '{' || (c) == '}')
#define IS_HOST(c)   (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '-' || (c) == '.')
#define IS_GENVAL(c) (IS_TOKEN(c) || (c) == ':' || (c) == '[' || (c) == ']')
/* qdtext that needs no second look: HTAB, %x20-7E but DQUOTE and "\",
 * and every non-ASCII octet (UTF8-NONASCII is checked no further). */
#define IS_QDPLAIN(c)                                                                              \
    ((c) == '\t' || (IN(c, 0x20, 0x7e) && (c) != '"' && (c) != '\\') || (c) >= 0x80)
/* Bytes where a comma-separated list splitter must look closer. */
#define IS_LISTSTOP(c) ((c) == '"' || (c) == '\\' || (c) == '<' || (c) == '>' || (c) == ',')

/* An unquoted auth-param value, leniently (see digest_hdr.c): visible
 * ASCII but comma and DQUOTE, and UTF-8 octets. */
#define IS_AUTHVAL(c) ((IN(c, 0x21, 0x7e) && (c) != ',' && (c) != '"') || (c) >= 0x80)

#define IS_SCHEME(c) (IS_HOST(c) || (c) == '+')
#define IS_LWS(c)    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

#define CLASS(c)                                                                                   \
    (uint32_t)((IS_ALPHA(c) ? SK__CC_ALPHA : 0) | (IS_DIGIT(c) ? SK__CC_DIGIT : 0) |               \
               (IS_HEX(c) ? SK__CC_HEX : 0) | (IS_MARK(c) ? SK__CC_MARK : 0) |                     \
               (IS_TOKEN(c) ? SK__CC_TOKEN : 0) | (IS_USER(c) ? SK__CC_USER : 0) |                 \
               (IS_PASS(c) ? SK__CC_PASS : 0) | (IS_PARAM(c) ? SK__CC_PARAM : 0) |                 \
               (IS_HNV(c) ? SK__CC_HNV : 0) | (IS_RESERVED(c) ? SK__CC_RESERVED : 0) |             \
               (IS_WORD(c) ? SK__CC_WORD : 0) | (IS_HOST(c) ? SK__CC_HOST : 0) |                   \
               (IS_GENVAL(c) ? SK__CC_GENVAL : 0) | (IS_QDPLAIN(c) ? SK__CC_QDPLAIN : 0) |         \
               (IS_LISTSTOP(c) ? SK__CC_LISTSTOP : 0) | (IS_AUTHVAL(c) ? SK__CC_AUTHVAL : 0) |     \
               (IS_SCHEME(c) ? SK__CC_SCHEME : 0) | (IS_LWS(c) ? SK__CC_LWS : 0))

#define ROW(b)                                                                                     \
    CLASS(b), CLASS(b + 1), CLASS(b + 2), CLASS(b + 3), CLASS(b + 4), CLASS(b + 5), CLASS(b + 6),  \
        CLASS(b + 7), CLASS(b + 8), CLASS(b + 9), CLASS(b + 10), CLASS(b + 11), CLASS(b + 12),     \
        CLASS(b + 13), CLASS(b + 14), CLASS(b + 15)

const uint32_t sk__cc[256] = {
    ROW(0x00), ROW(0x10), ROW(0x20), ROW(0x30), ROW(0x40), ROW(0x50), ROW(0x60), ROW(0x70),
    ROW(0x80), ROW(0x90), ROW(0xa0), ROW(0xb0), ROW(0xc0), ROW(0xd0), ROW(0xe0), ROW(0xf0),
};

/* Lower-cased token characters, 0 for every other octet: header names
 * are scanned, folded and hashed in one pass. */
#define TOKLOWER(c) (unsigned char)(IS_TOKEN(c) ? (IN(c, 'A', 'Z') ? (c) + 32 : (c)) : 0)
#define LROW(b)                                                                                    \
    TOKLOWER(b), TOKLOWER(b + 1), TOKLOWER(b + 2), TOKLOWER(b + 3), TOKLOWER(b + 4),               \
        TOKLOWER(b + 5), TOKLOWER(b + 6), TOKLOWER(b + 7), TOKLOWER(b + 8), TOKLOWER(b + 9),       \
        TOKLOWER(b + 10), TOKLOWER(b + 11), TOKLOWER(b + 12), TOKLOWER(b + 13), TOKLOWER(b + 14),  \
        TOKLOWER(b + 15)

const unsigned char sk__toklower[256] = {
    LROW(0x00), LROW(0x10), LROW(0x20), LROW(0x30), LROW(0x40), LROW(0x50), LROW(0x60), LROW(0x70),
    LROW(0x80), LROW(0x90), LROW(0xa0), LROW(0xb0), LROW(0xc0), LROW(0xd0), LROW(0xe0), LROW(0xf0),
};
