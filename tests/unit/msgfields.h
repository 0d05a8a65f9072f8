/* Field checks for parsed messages (see msgfields.c). */
#ifndef SK_TEST_MSGFIELDS_H
#define SK_TEST_MSGFIELDS_H

#include <sipkit/msg.h>

/* spec: "key=value|key=value"; fails the test on the first mismatch. */
void sk_test_check_fields(const char *name, const struct sk_msg *m, const char *spec);

#endif
