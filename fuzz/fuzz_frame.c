/*
 * libFuzzer target for TCP stream framing: frame the input message by
 * message as a connection reader would, checking every frame stays inside
 * the input and that framing the same bytes fed in two parts (split at a
 * point taken from the input) finds the same messages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frame everything in buf[0..len); returns messages found, and sets
 * *used to the bytes consumed. */
static size_t frame_all(const char *buf, size_t len, size_t *used)
{
    size_t off = 0, n = 0;

    for (;;) {
        size_t skip = 0, mlen = 0;
        int r = sk_msg_frame(buf + off, len - off, NULL, &skip, &mlen);
        if (r != 0)
            break;
        if (mlen == 0 || skip + mlen > len - off)
            abort();
        off += skip + mlen;
        n++;
    }
    *used = off;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t used_all, used_first, used_rest;

    if (size == 0)
        return 0;
    size_t whole = frame_all(buf, size, &used_all);
    size_t split = data[0] % size;
    size_t first = frame_all(buf, split, &used_first);
    size_t rest = frame_all(buf + used_first, size - used_first, &used_rest);
    /* Bytes that frame as messages on their own frame the same way with
     * more bytes after them (a frame ends where its Content-Length says). */
    if (first + rest != whole || used_first + used_rest != used_all)
        abort();
    return 0;
}
