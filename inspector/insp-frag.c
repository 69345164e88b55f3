/*
 * IP fragment tracking.  See insp-frag.h.
 *
 * A small direct-mapped table keyed by (addresses, protocol, id).  A new
 * datagram replaces whatever occupied its slot; entries older than
 * FRAG_TIMEOUT_NS are treated as absent.  Each entry keeps up to
 * FRAG_MAX_RANGES byte ranges to detect overlaps.
 */
#include <config.h>
#include "insp-frag.h"

#include <stdlib.h>
#include <string.h>

#define FRAG_MAX_RANGES 16
#define FRAG_TIMEOUT_NS (5ULL * 1000 * 1000 * 1000)

struct frag_range {
    uint32_t start, end;        /* [start, end) in datagram bytes. */
};

struct frag_entry {
    uint8_t src_ip[16], dst_ip[16];
    uint32_t id;
    uint8_t l4_proto;
    uint8_t in_use;
    uint8_t have_first;
    uint8_t n_ranges;
    uint16_t src_port, dst_port;
    uint64_t last_ns;
    struct frag_range ranges[FRAG_MAX_RANGES];
};

struct insp_frags {
    uint32_t mask;
    struct frag_entry *entries;
};

struct insp_frags *
insp_frags_create(unsigned int n)
{
    struct insp_frags *frags = calloc(1, sizeof *frags);
    uint32_t size = 1;

    while (size < n && size < (1u << 20)) {
        size <<= 1;
    }
    if (!frags) {
        return NULL;
    }
    frags->entries = calloc(size, sizeof *frags->entries);
    if (!frags->entries) {
        free(frags);
        return NULL;
    }
    frags->mask = size - 1;
    return frags;
}

void
insp_frags_destroy(struct insp_frags *frags)
{
    if (frags) {
        free(frags->entries);
        free(frags);
    }
}

static uint32_t
frag_hash(const struct fs_flow_key *key, uint32_t id)
{
    uint32_t h = id * 0x9e3779b1u ^ key->l4_proto;
    int i;

    for (i = 0; i < 16; i += 4) {
        uint32_t a, b;

        memcpy(&a, key->src_ip + i, 4);
        memcpy(&b, key->dst_ip + i, 4);
        h = (h ^ a ^ b) * 0x85ebca6bu;
        h ^= h >> 13;
    }
    return h;
}

static int
frag_entry_matches(const struct frag_entry *e, const struct fs_flow_key *key,
                   uint32_t id, uint64_t now_ns)
{
    return (e->in_use && e->id == id && e->l4_proto == key->l4_proto
            && now_ns - e->last_ns < FRAG_TIMEOUT_NS
            && !memcmp(e->src_ip, key->src_ip, 16)
            && !memcmp(e->dst_ip, key->dst_ip, 16));
}

/* Adds [start, end) to 'e'.  Returns nonzero if it overlaps a range that
 * is there already. */
static int
frag_add_range(struct frag_entry *e, uint32_t start, uint32_t end)
{
    int i;

    for (i = 0; i < e->n_ranges; i++) {
        if (start < e->ranges[i].end && e->ranges[i].start < end) {
            return 1;
        }
    }
    if (e->n_ranges < FRAG_MAX_RANGES) {
        e->ranges[e->n_ranges].start = start;
        e->ranges[e->n_ranges].end = end;
        e->n_ranges++;
    }
    return 0;
}

int
insp_frags_track(struct insp_frags *frags, struct insp_parsed *p,
                 uint64_t now_ns)
{
    struct fs_flow_key *key = &p->key;
    struct frag_entry *e;
    uint32_t end = p->frag_offset + p->frag_len;

    e = &frags->entries[frag_hash(key, p->frag_id) & frags->mask];
    if (!frag_entry_matches(e, key, p->frag_id, now_ns)) {
        memset(e, 0, sizeof *e);
        memcpy(e->src_ip, key->src_ip, 16);
        memcpy(e->dst_ip, key->dst_ip, 16);
        e->id = p->frag_id;
        e->l4_proto = key->l4_proto;
        e->in_use = 1;
    }
    e->last_ns = now_ns;

    if (frag_add_range(e, p->frag_offset, end)) {
        return FS_CTR_ERR_FRAG_OVERLAP;
    }
    if (!p->frag_offset) {
        e->have_first = 1;
        e->src_port = key->src_port;
        e->dst_port = key->dst_port;
        return 0;
    }
    if (!e->have_first) {
        return FS_CTR_ERR_FRAG_ORPHAN;
    }
    key->src_port = e->src_port;
    key->dst_port = e->dst_port;
    return 0;
}
