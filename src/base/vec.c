/*
 * The growable array: contiguous elements of one size, capacity doubling
 * so that n pushes cost O(n) copies in all.
 */
#include <sipkit/containers.h>

#include <string.h>

void sk_vec_free(struct sk_vec *v)
{
    sk_free(v->p);
    sk_vec_init(v, v->elsize);
}

int sk_vec_reserve(struct sk_vec *v, size_t extra)
{
    size_t need = v->len + extra, cap = v->cap != 0 ? v->cap : 8;
    void *p;

    if (need < v->len || v->elsize == 0)
        return SK_EINVAL;
    if (need <= v->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    if (cap > SIZE_MAX / v->elsize)
        return SK_ENOMEM;
    p = sk_realloc(v->p, cap * v->elsize);
    if (p == NULL)
        return SK_ENOMEM;
    v->p = p;
    v->cap = cap;
    return 0;
}

void *sk_vec_push(struct sk_vec *v)
{
    void *el;

    if (sk_vec_reserve(v, 1) != 0)
        return NULL;
    el = sk_vec_at(v, v->len++);
    memset(el, 0, v->elsize);
    return el;
}

void sk_vec_swap_remove(struct sk_vec *v, size_t i)
{
    if (i + 1 < v->len)
        memcpy(sk_vec_at(v, i), sk_vec_at(v, v->len - 1), v->elsize);
    v->len--;
}
