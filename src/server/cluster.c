/*
 * Bindings owned by one node of a cluster (docs/cluster.md).
 *
 * Nodes sharing a PostgreSQL store see each other's bindings, but a
 * binding made over a connection (TCP, TLS, WebSocket, an Outbound flow)
 * is reachable only through the node holding that connection. So, in
 * that mode, the registrar stores such a binding (one without a Path of
 * its own) with a Path (RFC 3327) naming this node:
 *
 *   <sip:HOST:PORT;lr;skfn=TOKEN>
 *
 * HOST:PORT is [cluster] node_address, or else this node's address as
 * the UA saw it; TOKEN is a flow token of nat.c (the connection, with a
 * MAC under the server secret, labelled apart from the Record-Route
 * tokens UAs see). Another node routes to the binding through that Path
 * like to any other; the owning node, receiving a new request whose Route
 * of ours carries a valid flow token, delivers it over the connection
 * without authenticating it again (proxy.c): the token cannot be forged,
 * and the Path is never returned to the UA (the 200 to the REGISTER only
 * echoes the REGISTER's own Path). The owning node itself recognises its
 * Path on a binding and uses the connection directly.
 *
 * Memory: the Path is written into a caller-owned buffer. Any thread.
 */
#include "server/internal.h"
#include "server/nat.h"
#include "server/proxy_int.h"

#include <string.h>

bool sk__cluster_mode(const struct sk_server *s)
{
    return strcmp(sk_store_backend(s->store), "postgresql") == 0;
}

int sk__cluster_path(const struct sk_server *s, const struct sk_addr *flow, char *out, size_t outsz)
{
    struct sk_addr udp = *flow;
    const char *host;
    struct sk_buf b;
    int err;

    udp.tp = SK_TP_UDP;
    udp.conn_id = 0;
    host = s->cfg.cluster_node_address[0] != '\0' ? s->cfg.cluster_node_address
                                                  : sk__proxy_self_text(s, &udp);
    if (host == NULL)
        return SK_ENOTFOUND;
    sk_buf_init(&b);
    sk_buf_printf(&b, "<sip:%s;lr", host);
    err = sk__nat_node_append(s->auth, flow, &b);
    sk_buf_append_cstr(&b, ">");
    if (err == 0)
        err = sk_buf_copy_out(&b, out, outsz);
    sk_buf_free(&b);
    return err;
}

bool sk__cluster_path_ours(const struct sk_server *s, const char *path, const struct sk_addr *flow)
{
    char mine[SK_LOC_PATH_MAX + 1];

    return path[0] == '<' && sk_transport_reliable(flow->tp) && sk__cluster_mode(s) &&
           sk__cluster_path(s, flow, mine, sizeof(mine)) == 0 && strcmp(mine, path) == 0;
}

int sk__cluster_path_dst(const char *path, struct sk_addr *dst)
{
    const char *end = strchr(path, '>');
    struct sk_slice uri;

    if (path[0] != '<' || end == NULL || end[1] != '\0')
        return SK_ENOTFOUND;
    uri = sk_slice_make(path + 1, (size_t)(end - path - 1));
    if (memmem(uri.p, uri.len, ";" SK__NAT_NODE "=", sizeof(SK__NAT_NODE) + 1) == NULL)
        return SK_ENOTFOUND;
    return sk__proxy_resolve(uri, SK_TP_UDP, dst);
}
