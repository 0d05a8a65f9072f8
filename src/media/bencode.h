/*
 * Bencode, the encoding of rtpengine's ng control protocol: strings
 * "LEN:BYTES", integers "iNe", lists "l...e" and dictionaries "d...e"
 * (keys are strings). Internal to sipkit (src/media/).
 *
 * The decoder is zero-copy: it fills a caller's array of nodes in
 * pre-order, each string a slice into the input, so the input must outlive
 * the nodes. It allocates nothing. The encoder appends to an sk_buf (check
 * sk_buf_ok() once at the end). Any thread.
 */
#ifndef SK_MEDIA_BENCODE_H
#define SK_MEDIA_BENCODE_H

#include <sipkit/base.h>

#include <stdint.h>

/* Nesting deeper than this is refused (the decoder recurses). */
#define SK__BENC_MAX_DEPTH 16

enum sk__benc_type { SK__BENC_INT, SK__BENC_STR, SK__BENC_LIST, SK__BENC_DICT };

struct sk__benc_node {
    enum sk__benc_type type;
    struct sk_slice str; /* SK__BENC_STR: the bytes */
    int64_t num;         /* SK__BENC_INT */
    size_t next;         /* index of the node after this one and its descendants */
};

/* Decode exactly one value filling all of in. nodes[0] is the value; the
 * children of a list or dictionary follow it (a dictionary's alternate key,
 * value), each child's successor at its .next. Returns 0 with *count
 * nodes, SK_EPARSE for malformed input or trailing bytes, SK_ETOOBIG when
 * more than cap nodes or SK__BENC_MAX_DEPTH levels would be needed. */
int sk__benc_decode(struct sk_slice in, struct sk__benc_node *nodes, size_t cap, size_t *count);

/* The index of the value under key in the dictionary at nodes[dict], or -1
 * (also when nodes[dict] is not a dictionary). */
long sk__benc_dict_get(const struct sk__benc_node *nodes, size_t dict, const char *key);

/* The string under key in the dictionary at nodes[dict]: true with *out
 * set, false when absent or not a string. */
bool sk__benc_dict_str(const struct sk__benc_node *nodes, size_t dict, const char *key,
                       struct sk_slice *out);

void sk__benc_str(struct sk_buf *b, struct sk_slice s);
void sk__benc_cstr(struct sk_buf *b, const char *s);
void sk__benc_int(struct sk_buf *b, int64_t v);
/* Open a list ('l') or dictionary ('d'); sk__benc_end() closes it. */
void sk__benc_open(struct sk_buf *b, char kind);
void sk__benc_end(struct sk_buf *b);

#endif
