/* Unit tests for the base containers: keyed hash, intrusive hash table,
 * intrusive list, growable array. */
#include "support.h"

#include <sipkit/containers.h>

#include <string.h>

static const uint8_t ref_key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The reference vectors of the SipHash paper (appendix A and the authors'
 * vectors.h): key 00..0f, message 00..(n-1). */
static void siphash_reference_vectors(void **state)
{
    uint8_t msg[64];
    (void)state;
    for (unsigned i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    sk_hash_set_key(ref_key);
    assert_int_equal(sk_hash(msg, 0), 0x726fdb47dd0e0e31ull);
    assert_int_equal(sk_hash(msg, 1), 0x74f839c593dc67fdull);
    assert_int_equal(sk_hash(msg, 8), 0x93f5f5799a932462ull);
    assert_int_equal(sk_hash(msg, 15), 0xa129ca6149be45e5ull);
}

/* Fed in any pieces, the incremental hasher gives the one-shot value. */
static void hasher_matches_one_shot(void **state)
{
    uint8_t msg[64];
    (void)state;
    for (unsigned i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    sk_hash_set_key(ref_key);
    for (size_t len = 0; len <= sizeof(msg); len++) {
        for (size_t cut = 0; cut <= len; cut++) {
            struct sk_hasher h;
            sk_hasher_init(&h);
            sk_hasher_bytes(&h, msg, cut);
            sk_hasher_bytes(&h, msg + cut, len - cut);
            assert_int_equal(sk_hasher_end(&h), sk_hash(msg, len));
        }
    }
}

static uint64_t two(const char *a, const char *b)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_cstr(&h, a);
    sk_hasher_cstr(&h, b);
    return sk_hasher_end(&h);
}

static void hasher_fields(void **state)
{
    struct sk_hasher h1, h2;
    (void)state;
    sk_hash_set_key(ref_key);
    /* Field boundaries count. */
    assert_true(two("ab", "c") != two("a", "bc"));
    assert_true(two("", "x") != two("x", ""));
    assert_int_equal(two("ab", "c"), two("ab", "c"));
    /* Lower-casing folds ASCII only. */
    sk_hasher_init(&h1);
    sk_hasher_field_lower(&h1, S("Alice@Example.COM"));
    sk_hasher_init(&h2);
    sk_hasher_field(&h2, S("alice@example.com"));
    assert_int_equal(sk_hasher_end(&h1), sk_hasher_end(&h2));
    /* The stable variant is the zero key, whatever the process key. */
    static const uint8_t zero[16];
    sk_hash_set_key(zero);
    sk_hasher_init(&h1);
    sk_hasher_cstr(&h1, "x");
    uint64_t zero_x = sk_hasher_end(&h1);
    sk_hash_set_key(ref_key);
    sk_hasher_init_stable(&h2);
    sk_hasher_cstr(&h2, "x");
    assert_int_equal(sk_hasher_end(&h2), zero_x);
    /* Another key, another hash. */
    uint64_t before = sk_hash("x", 1);
    uint8_t k2[16] = {1};
    sk_hash_set_key(k2);
    assert_true(sk_hash("x", 1) != before);
    sk_hash_set_key(ref_key);
    assert_int_equal(sk_hash("x", 1), before);
}

struct item {
    struct sk_hnode h;
    struct sk_dlist l;
    unsigned key;
};

static uint64_t key_hash(unsigned k)
{
    return sk_hash(&k, sizeof(k));
}

static struct item *lookup(const struct sk_htab *t, unsigned k)
{
    uint64_t h = key_hash(k);

    for (struct sk_hnode *n = sk_htab_first(t, h); n != NULL; n = sk_htab_next(n)) {
        struct item *it = SK_CONTAINER_OF(n, struct item, h);
        if (it->key == k)
            return it;
    }
    return NULL;
}

static void htab_grows_finds_removes(void **state)
{
    enum { N = 5000 };
    struct sk_htab t = SK_HTAB_INIT;
    struct item *items;
    (void)state;
    sk_test_alloc_hook();
    items = sk_calloc(N, sizeof(*items));
    assert_null(lookup(&t, 1));
    for (unsigned i = 0; i < N; i++) {
        items[i].key = i;
        assert_int_equal(sk_htab_insert(&t, &items[i].h, key_hash(i)), 0);
    }
    assert_int_equal(sk_htab_count(&t), N);
    /* Doubled from 16 while entries outnumbered buckets. */
    assert_int_equal(t.nb, 8192);
    for (unsigned i = 0; i < N; i++)
        assert_ptr_equal(lookup(&t, i), &items[i]);
    assert_null(lookup(&t, N));
    for (unsigned i = 0; i < N; i += 2)
        sk_htab_remove(&t, &items[i].h);
    assert_int_equal(sk_htab_count(&t), N / 2);
    for (unsigned i = 0; i < N; i++)
        assert_ptr_equal(lookup(&t, i), i % 2 ? &items[i] : NULL);
    /* Replace moves an entry to a new owner in place. */
    struct item moved = items[1];
    sk_htab_replace(&items[1].h, &moved.h);
    assert_ptr_equal(lookup(&t, 1), &moved);
    /* The iterator visits each entry once and survives removal. */
    struct sk_htab_iter it;
    struct sk_hnode *n;
    size_t seen = 0;
    sk_htab_iter_init(&it, &t);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        sk_htab_remove(&t, n);
        seen++;
    }
    assert_int_equal(seen, N / 2);
    assert_int_equal(sk_htab_count(&t), 0);
    sk_htab_free(&t);
    sk_free(items);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

/* A failed growth keeps every entry; a failed first array is reported. */
static void htab_allocation_failure(void **state)
{
    struct sk_htab t = SK_HTAB_INIT;
    struct item items[30];
    (void)state;
    memset(items, 0, sizeof(items));
    sk_test_alloc_hook();
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_htab_insert(&t, &items[0].h, 1), SK_ENOMEM);
    assert_int_equal(sk_htab_count(&t), 0);
    for (unsigned i = 0; i < 30; i++) {
        items[i].key = i;
        if (i == 16)
            sk_test_alloc_fail_at(1);
        assert_int_equal(sk_htab_insert(&t, &items[i].h, key_hash(i)), 0);
    }
    assert_int_equal(t.nb, 32);
    for (unsigned i = 0; i < 30; i++)
        assert_ptr_equal(lookup(&t, i), &items[i]);
    /* Reserving rounds up to a power of two and keeps every entry. */
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_htab_reserve(&t, 100), SK_ENOMEM);
    assert_int_equal(t.nb, 32);
    assert_int_equal(sk_htab_reserve(&t, 100), 0);
    assert_int_equal(t.nb, 128);
    assert_int_equal(sk_htab_reserve(&t, 10), 0);
    assert_int_equal(t.nb, 128);
    for (unsigned i = 0; i < 30; i++)
        assert_ptr_equal(lookup(&t, i), &items[i]);
    sk_htab_free(&t);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

/* Entries with equal hashes are told apart by their keys. */
static void htab_equal_hashes(void **state)
{
    struct sk_htab t = SK_HTAB_INIT;
    struct item a = {.key = 1}, b = {.key = 2};
    (void)state;
    assert_int_equal(sk_htab_insert(&t, &a.h, 42), 0);
    assert_int_equal(sk_htab_insert(&t, &b.h, 42), 0);
    struct sk_hnode *n = sk_htab_first(&t, 42);
    assert_ptr_equal(n, &b.h);
    assert_ptr_equal(sk_htab_next(n), &a.h);
    assert_null(sk_htab_next(&a.h));
    assert_null(sk_htab_first(&t, 43));
    sk_htab_remove(&t, &b.h);
    assert_ptr_equal(sk_htab_first(&t, 42), &a.h);
    sk_htab_free(&t);
}

static void list_order_and_removal(void **state)
{
    struct sk_dlist head, *pos, *tmp;
    struct item it[4];
    unsigned order[4], n = 0;
    (void)state;
    sk_dlist_init(&head);
    assert_true(sk_dlist_empty(&head));
    assert_null(sk_dlist_first(&head));
    for (unsigned i = 0; i < 4; i++) {
        it[i].key = i;
        sk_dlist_init(&it[i].l);
        assert_false(sk_dlist_linked(&it[i].l));
    }
    sk_dlist_push_back(&head, &it[1].l);
    sk_dlist_push_back(&head, &it[2].l);
    sk_dlist_push_front(&head, &it[0].l);
    assert_true(sk_dlist_linked(&it[0].l));
    SK_DLIST_FOREACH_SAFE(pos, tmp, &head)
    {
        order[n++] = SK_CONTAINER_OF(pos, struct item, l)->key;
        if (SK_CONTAINER_OF(pos, struct item, l)->key == 1)
            sk_dlist_remove(pos);
    }
    assert_int_equal(n, 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    assert_false(sk_dlist_linked(&it[1].l));
    sk_dlist_remove(&it[1].l); /* removing twice is harmless */
    sk_dlist_replace(&it[2].l, &it[3].l);
    assert_ptr_equal(sk_dlist_first(&head), &it[0].l);
    assert_ptr_equal(sk_dlist_next(&head, &it[0].l), &it[3].l);
    assert_null(sk_dlist_next(&head, &it[3].l));
    sk_dlist_remove(&it[0].l);
    sk_dlist_remove(&it[3].l);
    assert_true(sk_dlist_empty(&head));
}

static void vec_push_and_remove(void **state)
{
    struct sk_vec v;
    (void)state;
    sk_test_alloc_hook();
    sk_vec_init(&v, sizeof(uint32_t));
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t *p = sk_vec_push(&v);
        assert_non_null(p);
        assert_int_equal(*p, 0);
        *p = i;
    }
    assert_int_equal(v.len, 100);
    assert_int_equal(v.cap, 128);
    /* 8, 16, 32, 64, 128. */
    assert_int_equal(sk_test_alloc_count(), 5);
    sk_vec_swap_remove(&v, 0);
    assert_int_equal(*(uint32_t *)sk_vec_at(&v, 0), 99);
    sk_vec_swap_remove(&v, v.len - 1);
    assert_int_equal(v.len, 98);
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_vec_reserve(&v, 1000), SK_ENOMEM);
    assert_int_equal(v.len, 98);
    assert_int_equal(sk_vec_reserve(&v, 30), 0);
    sk_vec_free(&v);
    assert_int_equal(v.len, 0);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(siphash_reference_vectors),
        cmocka_unit_test(hasher_matches_one_shot),
        cmocka_unit_test(hasher_fields),
        cmocka_unit_test(htab_grows_finds_removes),
        cmocka_unit_test(htab_allocation_failure),
        cmocka_unit_test(htab_equal_hashes),
        cmocka_unit_test(list_order_and_removal),
        cmocka_unit_test(vec_push_and_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
