/*
 * The JSON API under /api/v1/ (docs/api.md): status, location bindings,
 * users of the served domain (list, add, passwd, del), subscriptions and
 * the guard's bans (list, lift).
 * JSON in and out is jansson's; every error is {"error": "..."} naming
 * what is wrong, so a script can show it as is.
 *
 * Users are changed through the server's own store handle, so its
 * credential cache sees the change at once (other processes' changes are
 * noticed by the store's change counter, see store.h).
 */
#include "admin/admin_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply_json(struct sk__http_resp *r, unsigned status, json_t *j)
{
    char *text = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    json_decref(j);
    if (text == NULL) {
        sk__http_error(r, 500, "out of memory");
        return;
    }
    r->status = status;
    r->ctype = "application/json";
    sk_buf_reset(&r->body);
    sk_buf_append_cstr(&r->body, text);
    sk_buf_append_cstr(&r->body, "\n");
    free(text);
}

static void not_allowed(struct sk__http_resp *r, const struct sk__http_req *q, const char *allow)
{
    sk__http_error(r, 405, "%s %s: allowed methods are %s", q->method, q->path, allow);
    r->allow = allow;
}

/* ---- status ---------------------------------------------------------------- */

static json_t *option_value(const struct sk_server_config *c, const struct sk_option *o)
{
    const char *field = (const char *)c + o->offset;
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    char a[SK_ADDR_STRLEN];
    json_t *list;

    switch (o->type) {
    case SK_OPT_LISTEN:
        list = json_array();
        for (size_t i = 0; i < c->nlisteners; i++)
            json_array_append_new(list,
                                  json_string(sk_addr_format(&c->listeners[i].addr, a, sizeof(a))));
        return list;
    case SK_OPT_STRING:
        return json_string(field);
    case SK_OPT_UINT:
        return json_integer(*(const unsigned *)(const void *)field);
    case SK_OPT_BOOL:
        return json_boolean(*(const bool *)(const void *)field);
    case SK_OPT_LOGLEVEL: {
        unsigned v = *(const unsigned *)(const void *)field;
        return json_string(v < 4 ? levels[v] : "?");
    }
    }
    return json_null();
}

static void get_status(struct sk_admin *a, struct sk__http_resp *r)
{
    const struct sk_server_config *c = sk_server_current_config(a->server);
    struct sk_server_stats st;
    json_t *j = json_object(), *ls = json_array(), *cfg = json_object();
    char addr[SK_ADDR_STRLEN];
    size_t n;
    const struct sk_option *opts = sk_server_options(&n);

    sk_server_get_stats(a->server, &st);
    for (unsigned i = 0; i < c->nlisteners; i++) {
        struct sk_addr b;
        if (sk_server_listener_addr(a->server, i, &b) != 0)
            continue;
        json_array_append_new(ls, json_pack("{s:s,s:[s,s]}", "address",
                                            sk_addr_format(&b, addr, sizeof(addr)), "transports",
                                            "udp", "tcp"));
    }
    for (size_t i = 0; i < n; i++) {
        json_t *sec = json_object_get(cfg, opts[i].section);
        if (sec == NULL) {
            sec = json_object();
            json_object_set_new(cfg, opts[i].section, sec);
        }
        json_object_set_new(sec, opts[i].name, option_value(c, &opts[i]));
    }
    json_object_set_new(j, "version", json_string(a->version));
    json_object_set_new(j, "uptime_s", json_integer((json_int_t)st.uptime_s));
    json_object_set_new(j, "workers", json_integer(st.workers));
    json_object_set_new(j, "domain", json_string(c->domain));
    json_object_set_new(j, "listeners", ls);
    json_object_set_new(j, "admin", json_string(sk_addr_format(&a->addr, addr, sizeof(addr))));
    json_object_set_new(j, "bindings", json_integer((json_int_t)st.bindings));
    json_object_set_new(j, "config", cfg);
    reply_json(r, 200, j);
}

/* ---- location -------------------------------------------------------------- */

struct walk {
    json_t *list;
    int64_t now;
};

static int add_binding(void *arg, const struct sk_binding *b)
{
    struct walk *w = arg;
    json_t *o = json_object();

    json_object_set_new(o, "aor", json_string(b->aor));
    json_object_set_new(o, "contact", json_string(b->contact));
    json_object_set_new(o, "expires_in", json_integer(sk_binding_remaining(b, w->now)));
    if (b->q >= 0)
        json_object_set_new(o, "q", json_real((double)b->q / 1000.0));
    json_object_set_new(o, "transport", json_string(sk_transport_name(b->transport)));
    json_object_set_new(
        o, "source",
        json_sprintf(strchr(b->src_ip, ':') != NULL ? "[%s]:%u" : "%s:%u", b->src_ip, b->src_port));
    json_object_set_new(o, "call_id", json_string(b->call_id));
    json_object_set_new(o, "cseq", json_integer(b->cseq));
    if (b->path[0] != '\0')
        json_object_set_new(o, "path", json_string(b->path));
    if (b->instance[0] != '\0') {
        json_object_set_new(o, "instance", json_string(b->instance));
        json_object_set_new(o, "reg_id", json_integer(b->reg_id));
    }
    json_object_set_new(o, "user_agent", json_string(b->user_agent));
    json_array_append_new(w->list, o);
    return 0;
}

static void get_location(struct sk_admin *a, const struct sk__http_req *q, struct sk__http_resp *r)
{
    struct walk w = {json_array(), sk_wall_s()};
    struct sk_slice aor = q->aor != NULL ? sk_slice_cstr(q->aor) : SK_SLICE_NULL;
    int rc = sk_location_foreach(sk_server_location(a->server), aor, w.now, add_binding, &w);

    if (rc != 0) {
        json_decref(w.list);
        sk__http_error(r, 500, "location: %s", sk_strerror(rc));
        return;
    }
    reply_json(r, 200, json_pack("{s:o}", "bindings", w.list));
}

/* ---- users ------------------------------------------------------------------ */

static int add_user(void *arg, const char *domain, const char *user)
{
    (void)domain;
    json_array_append_new(arg, json_string(user));
    return 0;
}

/* The body as a JSON object with the string fields asked for; answers 400
 * naming the problem and returns false otherwise. */
static bool body_fields(const struct sk__http_req *q, struct sk__http_resp *r, const char **user,
                        const char **pass, json_t **root)
{
    json_error_t e;
    json_t *v;

    *root = NULL;
    if (q->body_len == 0) {
        sk__http_error(r, 400, "a JSON object body is required");
        return false;
    }
    *root = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &e);
    if (*root == NULL) {
        sk__http_error(r, 400, "bad JSON at line %d column %d: %s", e.line, e.column, e.text);
        return false;
    }
    if (!json_is_object(*root)) {
        sk__http_error(r, 400, "the body must be a JSON object");
        return false;
    }
    if (user != NULL) {
        v = json_object_get(*root, "username");
        if (!json_is_string(v) || json_string_length(v) == 0) {
            sk__http_error(r, 400, "\"username\" must be a non-empty string");
            return false;
        }
        *user = json_string_value(v);
    }
    v = json_object_get(*root, "password");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        sk__http_error(r, 400, "\"password\" must be a non-empty string");
        return false;
    }
    *pass = json_string_value(v);
    return true;
}

static void store_error(struct sk__http_resp *r, int rc, const char *user)
{
    if (rc == SK_EEXIST)
        sk__http_error(r, 409, "user '%s' already exists", user);
    else if (rc == SK_ENOTFOUND)
        sk__http_error(r, 404, "no user '%s'", user);
    else if (rc == SK_EINVAL)
        sk__http_error(r, 400,
                       "'%s' is not a valid user name (no control characters, "
                       "at most %d bytes) or the password is empty",
                       user, SK_STORE_USER_MAX);
    else
        sk__http_error(r, 500, "store: %s", sk_strerror(rc));
}

static void users(struct sk_admin *a, const struct sk__http_req *q, struct sk__http_resp *r)
{
    struct sk_store *st = sk_server_store(a->server);
    const char *domain = sk_server_current_config(a->server)->domain;
    const char *user = NULL, *pass = NULL;
    json_t *root = NULL, *list;
    int rc;

    if (strcmp(q->method, "GET") == 0) {
        list = json_array();
        rc = sk_store_user_list(st, domain, add_user, list);
        if (rc != 0) {
            json_decref(list);
            sk__http_error(r, 500, "store: %s", sk_strerror(rc));
            return;
        }
        reply_json(r, 200, json_pack("{s:s,s:o}", "domain", domain, "users", list));
        return;
    }
    if (strcmp(q->method, "POST") != 0) {
        not_allowed(r, q, "GET, POST");
        return;
    }
    if (body_fields(q, r, &user, &pass, &root)) {
        rc = sk_store_user_add(st, domain, user, sk_slice_cstr(pass));
        if (rc == 0) {
            SK_LOG(SK_LOG_INFO, "admin", "event=user_added user=\"%s\" domain=%s", user, domain);
            reply_json(r, 201, json_pack("{s:s,s:s}", "username", user, "domain", domain));
        } else {
            store_error(r, rc, user);
        }
    }
    json_decref(root);
}

static void one_user(struct sk_admin *a, const struct sk__http_req *q, const char *name,
                     struct sk__http_resp *r)
{
    struct sk_store *st = sk_server_store(a->server);
    const char *domain = sk_server_current_config(a->server)->domain;
    const char *pass = NULL;
    json_t *root = NULL;
    int rc;

    if (strcmp(q->method, "DELETE") == 0) {
        rc = sk_store_user_del(st, domain, name);
        if (rc != 0) {
            store_error(r, rc, name);
            return;
        }
        SK_LOG(SK_LOG_INFO, "admin", "event=user_deleted user=\"%s\" domain=%s", name, domain);
        reply_json(r, 200, json_pack("{s:s,s:s}", "deleted", name, "domain", domain));
        return;
    }
    if (strcmp(q->method, "PUT") != 0) {
        not_allowed(r, q, "PUT, DELETE");
        return;
    }
    if (body_fields(q, r, NULL, &pass, &root)) {
        rc = sk_store_user_passwd(st, domain, name, sk_slice_cstr(pass));
        if (rc == 0) {
            SK_LOG(SK_LOG_INFO, "admin", "event=user_passwd user=\"%s\" domain=%s", name, domain);
            reply_json(r, 200, json_pack("{s:s,s:s}", "username", name, "domain", domain));
        } else {
            store_error(r, rc, name);
        }
    }
    json_decref(root);
}

/* ---- subscriptions ------------------------------------------------------------ */

static int add_sub(void *arg, const struct sk_subscription *s)
{
    struct walk *w = arg;
    static const char *const states[] = {"active", "pending", "terminated"};

    json_array_append_new(
        w->list,
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "id", s->key, "package", s->package,
                  "watcher", s->watcher, "resource", s->resource, "state",
                  (unsigned)s->state < 3 ? states[s->state] : "?", "expires_in",
                  (json_int_t)(s->expires_at > w->now ? s->expires_at - w->now : 0), "transport",
                  sk_transport_name(s->transport), "contact", s->remote_target));
    return 0;
}

static int add_pub(void *arg, const struct sk_publication *p)
{
    struct walk *w = arg;

    json_array_append_new(
        w->list, json_pack("{s:s,s:s,s:s,s:s,s:I}", "etag", p->etag, "resource", p->resource,
                           "package", p->package, "content_type", p->ctype, "expires_in",
                           (json_int_t)(p->expires_at > w->now ? p->expires_at - w->now : 0)));
    return 0;
}

static void get_subscriptions(struct sk_admin *a, struct sk__http_resp *r)
{
    struct sk_store *st = sk_server_store(a->server);
    struct walk subs = {json_array(), sk_wall_s()}, pubs = {json_array(), subs.now};
    int rc = sk_store_sub_foreach(st, add_sub, &subs);

    if (rc == 0)
        rc = sk_store_pub_foreach(st, add_pub, &pubs);
    if (rc != 0) {
        json_decref(subs.list);
        json_decref(pubs.list);
        sk__http_error(r, 500, "store: %s", sk_strerror(rc));
        return;
    }
    reply_json(r, 200,
               json_pack("{s:o,s:o}", "subscriptions", subs.list, "publications", pubs.list));
}

/* ---- bans (the guard, docs/security.md) ------------------------------------ */

static int add_ban(void *arg, const struct sk_store_ban *b)
{
    struct walk *w = arg;

    json_array_append_new(
        w->list, json_pack("{s:s,s:s,s:i,s:I,s:I}", "address", b->addr, "reason", b->reason,
                           "level", (int)b->level, "until", (json_int_t)b->until, "expires_in",
                           (json_int_t)(b->until > w->now ? b->until - w->now : 0)));
    return 0;
}

/* The guard writes its bans to the store within a second or two and
 * reads deletions back as often, so the store is what the API shows and
 * changes (as `sipkit bans` does). */
static void bans(struct sk_admin *a, const struct sk__http_req *q, const char *addr,
                 struct sk__http_resp *r)
{
    struct sk_store *st = sk_server_store(a->server);
    struct walk w = {NULL, sk_wall_s()};
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    int rc;

    if (addr == NULL) {
        if (!get) {
            not_allowed(r, q, "GET");
            return;
        }
        w.list = json_array();
        rc = sk_store_ban_list(st, w.now, add_ban, &w);
        if (rc != 0) {
            json_decref(w.list);
            sk__http_error(r, 500, "store: %s", sk_strerror(rc));
            return;
        }
        reply_json(r, 200, json_pack("{s:o}", "bans", w.list));
        return;
    }
    if (strcmp(q->method, "DELETE") != 0) {
        not_allowed(r, q, "DELETE");
        return;
    }
    rc = sk_store_ban_del(st, addr);
    if (rc == SK_ENOTFOUND) {
        sk__http_error(r, 404, "no ban of '%s'", addr);
        return;
    }
    if (rc != 0) {
        sk__http_error(r, 500, "store: %s", sk_strerror(rc));
        return;
    }
    SK_LOG(SK_LOG_INFO, "admin", "event=ban_deleted src=%s", addr);
    reply_json(r, 200, json_pack("{s:s}", "deleted", addr));
}

/* ---- routing ---------------------------------------------------------------- */

void sk__api_handle(struct sk_admin *a, const struct sk__http_req *q, struct sk__http_resp *r)
{
    const char *p = q->path + strlen("/api/v1/");
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;

    if (strcmp(p, "status") == 0) {
        if (get)
            get_status(a, r);
        else
            not_allowed(r, q, "GET");
    } else if (strcmp(p, "location") == 0) {
        if (get)
            get_location(a, q, r);
        else
            not_allowed(r, q, "GET");
    } else if (strcmp(p, "subscriptions") == 0) {
        if (get)
            get_subscriptions(a, r);
        else
            not_allowed(r, q, "GET");
    } else if (strcmp(p, "bans") == 0) {
        bans(a, q, NULL, r);
    } else if (strncmp(p, "bans/", 5) == 0 && p[5] != '\0' && strchr(p + 5, '/') == NULL) {
        bans(a, q, p + 5, r);
    } else if (strcmp(p, "users") == 0) {
        users(a, q, r);
    } else if (strncmp(p, "users/", 6) == 0 && p[6] != '\0' && strchr(p + 6, '/') == NULL) {
        one_user(a, q, p + 6, r);
    } else {
        sk__http_error(r, 404, "no such resource: %s (see docs/api.md)", q->path);
    }
}
