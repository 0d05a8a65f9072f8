/*
 * Media relay through rtpengine (media.c): the ng control protocol spoken
 * to one or more rtpengine instances. Internal to src/server/.
 *
 * Threads: any. Commands go to a client thread of their own, which waits
 * for rtpengine (media.timeout x 2 per instance tried: one
 * retransmission each) without holding up anyone: sk__media_sdp_async()
 * and sk__media_delete() return at once, and the answer comes back in a
 * callback on that thread. sk__media_sdp() and sk__media_ping() wait for
 * it: for start-up, tools and tests, never an event loop.
 */
#ifndef SK_SERVER_MEDIA_H
#define SK_SERVER_MEDIA_H

#include <sipkit/base.h>
#include <sipkit/msg.h>
#include <sipkit/server.h>
#include <sipkit/transport.h>

#include <stdbool.h>

struct sk__media;

/* The Record-Route URI parameter saying that the dialog's media is
 * relayed, so that its later requests (re-INVITE, BYE) are too. */
#define SK__MEDIA_RR_PARAM "skm"

/* Check the [media] options. Returns 0, or SK_EINVAL with err set. */
int sk__media_check_config(const struct sk_server_config *c, char *err, size_t errsz);

/* From the checked configuration. *out is NULL-safe to free. */
int sk__media_new(struct sk__media **out, const struct sk_server_config *c);
void sk__media_free(struct sk__media *md);

/* Whether a new call is relayed by policy (media.engage): always, or when
 * one side is behind NAT (natted), or never; never without an instance. */
bool sk__media_engage(const struct sk__media *md, bool natted);

/* Whether m carries an SDP body (Content-Type application/sdp). */
bool sk__media_has_sdp(const struct sk_msg *m);

/* Send m's SDP to rtpengine as an "offer" or "answer" and write the SDP
 * rtpengine gives back into sdp (to replace m's body); m's source
 * address goes along (received-from). offer_from_to: the offerer is m's To party (an offer in a
 * response, when the INVITE had no SDP). Returns 0, SK_ETIMEDOUT when no
 * instance answered, SK_EIO when rtpengine refused. */
int sk__media_sdp(struct sk__media *md, const char *command, const struct sk_msg *m,
                  bool offer_from_to, struct sk_buf *sdp);

/* The outcome of sk__media_sdp_async(): 0 with rtpengine's SDP (valid
 * during the call only), SK_ETIMEDOUT when no instance answered, SK_EIO
 * when rtpengine refused. Called on the media client thread. */
typedef void (*sk__media_sdp_cb)(void *arg, int err, struct sk_slice sdp);
/* sk__media_sdp() without waiting: m is read before it returns; cb is
 * called once later. Returns 0, or an error and cb is not called. */
int sk__media_sdp_async(struct sk__media *md, const char *command, const struct sk_msg *m,
                        bool offer_from_to, sk__media_sdp_cb cb, void *arg);

/* Stop the client thread: commands still waiting end with SK_ETIMEDOUT
 * (their callbacks run first); later ones are refused (SK_ESTATE). */
void sk__media_stop(struct sk__media *md);

/* Tell rtpengine the call of m is over ("delete"), without waiting;
 * errors are logged. */
void sk__media_delete(struct sk__media *md, const struct sk_msg *m);

/* "ping" every instance; returns how many answered "pong". */
int sk__media_ping(struct sk__media *md);

#endif
