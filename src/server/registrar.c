/*
 * The registrar (RFC 3261 §10.3). Placeholder until the location service
 * is wired: REGISTER is answered like any method the server does not
 * handle.
 */
#include "server/internal.h"

void sk__registrar_handle(struct sk__req *r)
{
    sk__reply(r, 501, NULL);
}
