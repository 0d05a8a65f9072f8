/*
 * The transaction timer heap: a pairing heap over timer nodes embedded in
 * the transactions (struct sk__timer), one heap per shard, ordered by due
 * time. Arming and cancelling a timer never allocates, which is what lets
 * RFC 3261 §17 retransmissions run without touching the allocator.
 *
 * Memory: the heap owns nothing; nodes belong to their transactions. The
 * caller holds the shard lock.
 */
#include "txn_int.h"

#include <stddef.h>

/* Make the later of two roots the first child of the earlier one. Both
 * roots have no siblings. */
static struct sk__timer *meld(struct sk__timer *a, struct sk__timer *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    if (b->due < a->due) {
        struct sk__timer *t = a;
        a = b;
        b = t;
    }
    b->prev = a;
    b->next = a->child;
    if (a->child != NULL)
        a->child->prev = b;
    a->child = b;
    return a;
}

/* The classic two-pass merge of a sibling list: meld pairs left to right,
 * then fold the results right to left. Iterative, so a long sibling list
 * cannot exhaust the stack. */
static struct sk__timer *merge_pairs(struct sk__timer *first)
{
    struct sk__timer *stack = NULL;
    struct sk__timer *root = NULL;

    while (first != NULL) {
        struct sk__timer *a = first;
        struct sk__timer *b = a->next;
        struct sk__timer *m;

        a->prev = NULL;
        a->next = NULL;
        if (b == NULL) {
            m = a;
            first = NULL;
        } else {
            first = b->next;
            b->prev = NULL;
            b->next = NULL;
            m = meld(a, b);
        }
        m->next = stack; /* the stack is linked through next */
        stack = m;
    }
    while (stack != NULL) {
        struct sk__timer *n = stack->next;
        stack->next = NULL;
        root = meld(root, stack);
        stack = n;
    }
    return root;
}

void sk__heap_insert(struct sk__heap *h, struct sk__timer *n)
{
    n->child = NULL;
    n->next = NULL;
    n->prev = NULL;
    n->armed = true;
    h->root = meld(h->root, n);
}

void sk__heap_remove(struct sk__heap *h, struct sk__timer *n)
{
    struct sk__timer *sub;

    if (!n->armed)
        return;
    n->armed = false;
    if (n == h->root) {
        h->root = merge_pairs(n->child);
    } else {
        /* Unlink n from its parent's child list, then put its children
         * back as one subtree. */
        if (n->prev->child == n)
            n->prev->child = n->next;
        else
            n->prev->next = n->next;
        if (n->next != NULL)
            n->next->prev = n->prev;
        sub = merge_pairs(n->child);
        h->root = meld(h->root, sub);
    }
    n->child = NULL;
    n->next = NULL;
    n->prev = NULL;
}
