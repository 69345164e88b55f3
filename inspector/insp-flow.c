/* The flow table.  See insp-flow.h. */
#include <config.h>
#include "insp-flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct insp_flow) <= 256,
               "a decided flow must cost at most 256 bytes");

int
insp_flow_table_init(struct insp_flow_table *t, uint32_t capacity,
                     uint32_t seed)
{
    uint32_t n_buckets = 1;
    uint32_t i;

    memset(t, 0, sizeof *t);
    if (!capacity || capacity >= INSP_NIL / 2) {
        return -EINVAL;
    }
    while (n_buckets < capacity) {
        n_buckets <<= 1;
    }
    t->flows = calloc(capacity, sizeof *t->flows);
    t->buckets = malloc(n_buckets * sizeof *t->buckets);
    if (!t->flows || !t->buckets) {
        insp_flow_table_uninit(t);
        return -ENOMEM;
    }
    for (i = 0; i < n_buckets; i++) {
        t->buckets[i] = INSP_NIL;
    }
    for (i = 0; i < capacity; i++) {
        t->flows[i].hash_next = i + 1 < capacity ? i + 1 : INSP_NIL;
    }
    for (i = 0; i < INSP_N_LRU; i++) {
        t->lru_head[i] = t->lru_tail[i] = INSP_NIL;
    }
    t->bucket_mask = n_buckets - 1;
    t->seed = seed;
    t->capacity = capacity;
    t->free_head = 0;
    return 0;
}

void
insp_flow_table_uninit(struct insp_flow_table *t)
{
    free(t->flows);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

uint64_t
insp_flow_table_memory(const struct insp_flow_table *t)
{
    return ((uint64_t) t->capacity * sizeof *t->flows
            + ((uint64_t) t->bucket_mask + 1) * sizeof *t->buckets);
}

static inline uint32_t
mix32(uint32_t h, uint32_t v)
{
    v *= 0xcc9e2d51u;
    v = v << 15 | v >> 17;
    h ^= v * 0x1b873593u;
    h = h << 13 | h >> 19;
    return h * 5 + 0xe6546b64u;
}

/* Hashes one endpoint (address and port). */
static uint32_t
hash_endpoint(uint32_t seed, const uint8_t ip[16], uint16_t port)
{
    uint32_t h = seed ^ port, w;
    int i;

    for (i = 0; i < 16; i += 4) {
        memcpy(&w, ip + i, 4);
        h = mix32(h, w);
    }
    return h;
}

uint32_t
insp_flow_hash(const struct insp_flow_table *t, const struct fs_flow_key *k)
{
    /* Combine the endpoints commutatively, then mix in the rest. */
    uint32_t a = hash_endpoint(t->seed, k->src_ip, k->src_port);
    uint32_t b = hash_endpoint(t->seed, k->dst_ip, k->dst_port);
    uint32_t h = mix32(a + b, a ^ b);

    h = mix32(h, (uint32_t) k->l4_proto << 16 | k->vlan);
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

static int
key_equal(const struct fs_flow_key *a, const struct fs_flow_key *b)
{
    return (a->src_port == b->src_port && a->dst_port == b->dst_port
            && a->l4_proto == b->l4_proto && a->vlan == b->vlan
            && !memcmp(a->src_ip, b->src_ip, 16)
            && !memcmp(a->dst_ip, b->dst_ip, 16));
}

static int
key_reverse_equal(const struct fs_flow_key *a, const struct fs_flow_key *b)
{
    return (a->src_port == b->dst_port && a->dst_port == b->src_port
            && a->l4_proto == b->l4_proto && a->vlan == b->vlan
            && !memcmp(a->src_ip, b->dst_ip, 16)
            && !memcmp(a->dst_ip, b->src_ip, 16));
}

uint32_t
insp_flow_lookup(const struct insp_flow_table *t,
                 const struct fs_flow_key *key, uint32_t hash, int *reverse)
{
    uint32_t i;

    for (i = t->buckets[hash & t->bucket_mask]; i != INSP_NIL;
         i = t->flows[i].hash_next) {
        const struct insp_flow *f = &t->flows[i];

        if (f->hash != hash) {
            continue;
        }
        if (key_equal(&f->key, key)) {
            *reverse = 0;
            return i;
        }
        if (key_reverse_equal(&f->key, key)) {
            *reverse = 1;
            return i;
        }
    }
    return INSP_NIL;
}

static void
lru_unlink(struct insp_flow_table *t, uint32_t idx)
{
    struct insp_flow *f = &t->flows[idx];

    if (f->lru_prev != INSP_NIL) {
        t->flows[f->lru_prev].lru_next = f->lru_next;
    } else {
        t->lru_head[f->lru] = f->lru_next;
    }
    if (f->lru_next != INSP_NIL) {
        t->flows[f->lru_next].lru_prev = f->lru_prev;
    } else {
        t->lru_tail[f->lru] = f->lru_prev;
    }
}

static void
lru_append(struct insp_flow_table *t, uint32_t idx)
{
    struct insp_flow *f = &t->flows[idx];
    uint32_t tail = t->lru_tail[f->lru];

    f->lru_prev = tail;
    f->lru_next = INSP_NIL;
    if (tail != INSP_NIL) {
        t->flows[tail].lru_next = idx;
    } else {
        t->lru_head[f->lru] = idx;
    }
    t->lru_tail[f->lru] = idx;
}

uint32_t
insp_flow_insert(struct insp_flow_table *t, const struct fs_flow_key *key,
                 uint32_t hash)
{
    uint32_t idx = t->free_head;
    uint32_t *bucket;
    struct insp_flow *f;

    if (idx == INSP_NIL) {
        return INSP_NIL;
    }
    f = &t->flows[idx];
    t->free_head = f->hash_next;
    memset(f, 0, sizeof *f);
    f->key = *key;
    f->hash = hash;
    f->in_use = 1;
    f->cls = INSP_NIL;
    f->lru = (key->l4_proto == 6 ? INSP_LRU_TCP
              : key->l4_proto == 17 ? INSP_LRU_UDP : INSP_LRU_OTHER);
    bucket = &t->buckets[hash & t->bucket_mask];
    f->hash_next = *bucket;
    *bucket = idx;
    lru_append(t, idx);
    t->n_flows++;
    return idx;
}

void
insp_flow_remove(struct insp_flow_table *t, uint32_t idx)
{
    struct insp_flow *f = &t->flows[idx];
    uint32_t *link;

    for (link = &t->buckets[f->hash & t->bucket_mask]; *link != INSP_NIL;
         link = &t->flows[*link].hash_next) {
        if (*link == idx) {
            *link = f->hash_next;
            break;
        }
    }
    if (f->pinned) {
        t->n_pinned--;
    } else {
        lru_unlink(t, idx);
    }
    f->in_use = 0;
    f->hash_next = t->free_head;
    t->free_head = idx;
    t->n_flows--;
}

/* How far insp_flow_place() looks for a flow's place. */
#define PLACE_STEPS_MAX 1024

void
insp_flow_place(struct insp_flow_table *t, uint32_t idx)
{
    struct insp_flow *f = &t->flows[idx];
    uint32_t after, next;
    int steps = 0;

    if (f->pinned) {
        return;
    }
    lru_unlink(t, idx);
    for (after = t->lru_tail[f->lru];
         after != INSP_NIL && t->flows[after].last_seen_ns > f->last_seen_ns;
         after = t->flows[after].lru_prev) {
        if (++steps > PLACE_STEPS_MAX) {
            after = INSP_NIL;   /* Far back: at the head, to go first. */
            break;
        }
    }
    next = after == INSP_NIL ? t->lru_head[f->lru] : t->flows[after].lru_next;
    f->lru_prev = after;
    f->lru_next = next;
    if (after == INSP_NIL) {
        t->lru_head[f->lru] = idx;
    } else {
        t->flows[after].lru_next = idx;
    }
    if (next == INSP_NIL) {
        t->lru_tail[f->lru] = idx;
    } else {
        t->flows[next].lru_prev = idx;
    }
}

void
insp_flow_touch(struct insp_flow_table *t, uint32_t idx)
{
    if (!t->flows[idx].pinned && t->lru_tail[t->flows[idx].lru] != idx) {
        lru_unlink(t, idx);
        lru_append(t, idx);
    }
}

void
insp_flow_set_pinned(struct insp_flow_table *t, uint32_t idx, bool pinned)
{
    struct insp_flow *f = &t->flows[idx];

    if (pinned && !f->pinned) {
        lru_unlink(t, idx);
        t->n_pinned++;
    } else if (!pinned && f->pinned) {
        lru_append(t, idx);
        t->n_pinned--;
    }
    f->pinned = pinned;
}

uint32_t
insp_flow_find_id(const struct insp_flow_table *t,
                  const struct fs_flow_key *key, uint64_t id)
{
    int reverse;
    uint32_t idx = insp_flow_lookup(t, key, insp_flow_hash(t, key), &reverse);

    return idx != INSP_NIL && t->flows[idx].id == id ? idx : INSP_NIL;
}
