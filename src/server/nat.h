/*
 * Flows of UAs behind NAT in the proxy's Record-Route (nat.c). Internal to
 * src/server/. Any thread.
 */
#ifndef SK_SERVER_NAT_H
#define SK_SERVER_NAT_H

#include <sipkit/base.h>
#include <sipkit/msg.h>
#include <sipkit/transport.h>

#include <stdbool.h>

struct sk_auth;

/* The Record-Route URI parameters naming the caller's and callee's flows. */
#define SK__NAT_CALLER "skfa"
#define SK__NAT_CALLEE "skfb"

/* Whether a UA whose Contact is contact_uri, heard from src, must be
 * reached at src rather than at its Contact: the Contact is not src (a
 * NAT, or a name we do not compare); on TCP, not src's host. */
bool sk__nat_flow_needed(struct sk_slice contact_uri, const struct sk_addr *src);

/* Append ";NAME=TOKEN" naming flow (address, port, transport, TCP
 * connection) with its MAC. Returns 0, SK_ENOMEM or an error of
 * sk_auth_mac(). */
int sk__nat_flow_append(struct sk_auth *a, const char *name, const struct sk_addr *flow,
                        struct sk_buf *b);

/* For a request from src whose Route (or strict Request-URI) value of ours
 * is ours (NULL: none): when that value names flows, where the request
 * goes (RFC 5626 §5.3). Returns 1 with *dst set, 0 when the Request-URI
 * decides, SK_EAUTH for a token we did not mint or cannot read. */
int sk__nat_route(struct sk_auth *a, const struct sk_uri *ours, const struct sk_addr *src,
                  struct sk_addr *dst);

#endif
