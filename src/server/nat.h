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
/* The cluster Path's parameter naming a connection of this node (cluster.c). */
#define SK__NAT_NODE "skfn"

/* Whether a UA whose Contact is contact_uri, heard from src, must be
 * reached at src rather than at its Contact: the Contact is not src (a
 * NAT, or a name we do not compare); on TCP, not src's host. */
bool sk__nat_flow_needed(struct sk_slice contact_uri, const struct sk_addr *src);

/* Append ";NAME=TOKEN" naming flow (address, port, transport, TCP
 * connection) with its MAC. Returns 0, SK_ENOMEM or an error of
 * sk_auth_mac(). */
int sk__nat_flow_append(struct sk_auth *a, const char *name, const struct sk_addr *flow,
                        struct sk_buf *b);

/* Append ";skfn=TOKEN" naming flow for the cluster Path (a MAC of its
 * own: no Record-Route token passes for it). Same returns. */
int sk__nat_node_append(struct sk_auth *a, const struct sk_addr *flow, struct sk_buf *b);
/* When ours (NULL: none) carries a cluster Path token: 1 with *dst set to
 * its flow, SK_EAUTH when we did not mint it; 0 without one. */
int sk__nat_node_route(struct sk_auth *a, const struct sk_uri *ours, struct sk_addr *dst);

/* For a request from src whose Route (or strict Request-URI) value of ours
 * is ours (NULL: none): when that value names flows, where the request
 * goes (RFC 5626 §5.3). Returns 1 with *dst set, 0 when the Request-URI
 * decides, SK_EAUTH for a token we did not mint or cannot read. */
int sk__nat_route(struct sk_auth *a, const struct sk_uri *ours, const struct sk_addr *src,
                  struct sk_addr *dst);

/* ---- OPTIONS keep-alives (nat_ping.c); the timer thread walks, the
 * workers hand in responses. ---- */

struct sk__natping;
struct sk_server;
struct sk_binding;

int sk__natping_new(struct sk__natping **out);
void sk__natping_free(struct sk__natping *p); /* NULL-safe */
/* A new round of keep-alives (returns its number), and its end: entries
 * of bindings the round did not see are forgotten. */
uint32_t sk__natping_round_begin(struct sk__natping *p);
void sk__natping_round_end(struct sk__natping *p);

enum { SK__NATPING_SEND, SK__NATPING_DEAD };
/* For NATed UDP binding b in this round: SK__NATPING_DEAD when its last
 * max_failures OPTIONS went unanswered (0: never), else SK__NATPING_SEND
 * (an OPTIONS is now outstanding). *id gets the binding's id. */
int sk__natping_check(struct sk__natping *p, const struct sk_binding *b, unsigned max_failures,
                      uint64_t *id);
/* The OPTIONS for binding b, id and round, with host ("addr:port") in
 * its Via. Returns 0 or SK_ENOMEM. */
int sk__natping_write(const struct sk_server *s, const struct sk_binding *b, uint64_t id,
                      uint32_t round, const char *host, struct sk_buf *out);
/* A response that matched no client transaction: 1 when it answers an
 * outstanding keep-alive, 0 when it is one of ours otherwise (late,
 * forged: drop it), -1 when it is not ours. */
int sk__natping_response(struct sk__natping *p, const struct sk_msg *resp);

#endif
