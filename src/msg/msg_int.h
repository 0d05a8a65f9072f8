/*
 * Internal helpers shared by the message layer's files: character classes
 * from the RFC 3261 §25.1 grammar and a few scanners. Not public API.
 */
#ifndef SK_MSG_INT_H
#define SK_MSG_INT_H

#include <sipkit/msg.h>

#include "msg/value.h"

static inline bool sk__is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool sk__is_token(struct sk_slice s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!cc_is(s.p[i], SK__CC_TOKEN))
            return false;
    }
    return true;
}

void sk__msg_limits(const struct sk_msg_limits *in, struct sk_msg_limits *out);
/* RFC 1123 date as §20.17 restricts it: "Sun, 06 Nov 1994 08:49:37 GMT". */
bool sk__valid_sip_date(struct sk_slice v);

#endif
