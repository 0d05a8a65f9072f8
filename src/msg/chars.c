/* Character classes of the RFC 3261 §25.1 grammar, filled in before main(). */
#include "msg/msg_int.h"

#include <string.h>

bool sk__tokchar[256];
bool sk__wordchar[256];

static void mark(bool *table, const char *chars)
{
    for (const char *c = chars; *c != '\0'; c++)
        table[(unsigned char)*c] = true;
}

#if defined(__GNUC__)
__attribute__((constructor))
#endif
static void build_char_tables(void)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    mark(sk__tokchar, alnum);
    mark(sk__tokchar, "-.!%*_+`'~");
    memcpy(sk__wordchar, sk__tokchar, sizeof(sk__wordchar));
    mark(sk__wordchar, "()<>:\\\"/[]?{}");
}
