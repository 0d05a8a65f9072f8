/*
 * The registrar (RFC 3261 §10.3). Placeholder until the location service
 * is wired: REGISTER is authenticated, then refused.
 */
#include "server/internal.h"

void sk__registrar_handle(struct sk__req *r)
{
    if (!sk__auth_check(r, SK_AUTH_WWW))
        return;
    sk__reply(r, 501, NULL);
}
