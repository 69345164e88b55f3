/*
 * IP fragment tracking.  See insp-frag.h.
 *
 * A set-associative table keyed by (addresses, protocol, id): a datagram
 * hashes to one set of FRAG_WAYS entries and takes a free or timed-out
 * one.  When the set is full of live datagrams, the new datagram is not
 * tracked (FS_CTR_ERR_FRAG_TABLE_FULL): evicting a live one would let an
 * attacker who floods first fragments turn another datagram's later
 * fragments into orphans at will, and a datagram that cannot be tracked
 * has a named policy of its own.
 *
 * Each entry keeps the byte ranges seen, merged where they touch, to
 * detect overlaps (FRAG_MAX_RANGES disjoint ranges at most: fragments
 * that arrive in order make one range).  Once the last fragment has been
 * seen and the ranges cover the datagram, the entry is freed: a fragment
 * of the same id after that is an orphan, as it is to the receiver, whose
 * reassembly is done.  Entries older than FRAG_TIMEOUT_NS are free.
 */
#include <config.h>
#include "insp-frag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FRAG_WAYS 4
#define FRAG_MAX_RANGES INSP_FRAG_MAX_RANGES
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
    uint32_t total_len;         /* End of the last fragment, 0 if unseen. */
    uint64_t last_ns;
    struct frag_range ranges[FRAG_MAX_RANGES];  /* Sorted, disjoint. */
};

struct insp_frags {
    uint32_t n_first;           /* Entries made (by first fragments) and
                                 * not yet seen complete: 0 means none is
                                 * in flight. */
    uint32_t set_mask;
    uint32_t seed;
    struct frag_entry *entries;         /* (set_mask + 1) * FRAG_WAYS. */
};

struct insp_frags *
insp_frags_create(unsigned int n, uint32_t seed)
{
    struct insp_frags *frags = calloc(1, sizeof *frags);
    uint32_t sets = 1;

    while (sets * FRAG_WAYS < n && sets < (1u << 18)) {
        sets <<= 1;
    }
    if (!frags) {
        return NULL;
    }
    frags->entries = calloc((size_t) sets * FRAG_WAYS,
                            sizeof *frags->entries);
    if (!frags->entries) {
        free(frags);
        return NULL;
    }
    frags->set_mask = sets - 1;
    frags->seed = seed;
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

size_t
insp_frags_memory(const struct insp_frags *frags)
{
    return (sizeof *frags + ((size_t) frags->set_mask + 1) * FRAG_WAYS
            * sizeof *frags->entries);
}

static uint32_t
frag_hash(const struct insp_frags *frags, const struct fs_flow_key *key,
          uint32_t id)
{
    uint32_t h = (id ^ frags->seed) * 0x9e3779b1u ^ key->l4_proto;
    int i;

    for (i = 0; i < 16; i += 4) {
        uint32_t a, b;

        memcpy(&a, key->src_ip + i, 4);
        memcpy(&b, key->dst_ip + i, 4);
        h = (h ^ a) * 0x85ebca6bu;
        h ^= h >> 13;
        h = (h ^ b) * 0xc2b2ae35u;
        h ^= h >> 16;
    }
    return h;
}

static bool
frag_entry_live(const struct frag_entry *e, uint64_t now_ns)
{
    return e->in_use && now_ns - e->last_ns < FRAG_TIMEOUT_NS;
}

static bool
frag_entry_matches(const struct frag_entry *e, const struct fs_flow_key *key,
                   uint32_t id, uint64_t now_ns)
{
    return (frag_entry_live(e, now_ns) && e->id == id
            && e->l4_proto == key->l4_proto
            && !memcmp(e->src_ip, key->src_ip, 16)
            && !memcmp(e->dst_ip, key->dst_ip, 16));
}

/* Adds [start, end) to 'e''s ranges, merging it with the ranges it
 * touches.  Returns 0, FS_CTR_ERR_FRAG_OVERLAP if it overlaps one, or
 * FS_CTR_ERR_FRAG_TABLE_FULL if 'e' has no room for another range. */
static int
frag_add_range(struct frag_entry *e, uint32_t start, uint32_t end)
{
    int i, j;

    for (i = 0; i < e->n_ranges && e->ranges[i].end < start; i++) {
        continue;
    }
    /* Now ranges[i] is the first that ends at or after 'start'. */
    if (i < e->n_ranges && start < e->ranges[i].end
        && e->ranges[i].start < end) {
        return FS_CTR_ERR_FRAG_OVERLAP;
    }
    if (i < e->n_ranges && e->ranges[i].end == start) {
        /* Extends ranges[i]; maybe up to the next one. */
        e->ranges[i].end = end;
        if (i + 1 < e->n_ranges && e->ranges[i + 1].start == end) {
            e->ranges[i].end = e->ranges[i + 1].end;
            for (j = i + 1; j + 1 < e->n_ranges; j++) {
                e->ranges[j] = e->ranges[j + 1];
            }
            e->n_ranges--;
        }
        return 0;
    }
    if (i < e->n_ranges && e->ranges[i].start == end) {
        e->ranges[i].start = start;
        return 0;
    }
    if (e->n_ranges == FRAG_MAX_RANGES) {
        return FS_CTR_ERR_FRAG_TABLE_FULL;
    }
    for (j = e->n_ranges; j > i; j--) {
        e->ranges[j] = e->ranges[j - 1];
    }
    e->ranges[i].start = start;
    e->ranges[i].end = end;
    e->n_ranges++;
    return 0;
}

/* Finds the entry of 'p''s datagram, or a free one for it (marked in use,
 * fields cleared) if 'create'.  Returns NULL if there is none. */
static struct frag_entry *
frag_find(struct insp_frags *frags, const struct insp_parsed *p,
          uint64_t now_ns, bool create)
{
    const struct fs_flow_key *key = &p->key;
    struct frag_entry *set = &frags->entries[
        (frag_hash(frags, key, p->frag_id) & frags->set_mask) * FRAG_WAYS];
    struct frag_entry *free_entry = NULL;
    int i;

    for (i = 0; i < FRAG_WAYS; i++) {
        if (frag_entry_matches(&set[i], key, p->frag_id, now_ns)) {
            return &set[i];
        } else if (!free_entry && !frag_entry_live(&set[i], now_ns)) {
            free_entry = &set[i];
        }
    }
    if (!create || !free_entry) {
        return NULL;
    }
    memset(free_entry, 0, sizeof *free_entry);
    memcpy(free_entry->src_ip, key->src_ip, 16);
    memcpy(free_entry->dst_ip, key->dst_ip, 16);
    free_entry->id = p->frag_id;
    free_entry->l4_proto = key->l4_proto;
    free_entry->in_use = 1;
    return free_entry;
}

int
insp_frags_track(struct insp_frags *frags, struct insp_parsed *p,
                 uint64_t now_ns)
{
    uint32_t end = p->frag_offset + p->frag_len;
    struct frag_entry *e;
    int error;

    p->frag_ports_known = !p->frag_offset;
    e = frag_find(frags, p, now_ns, !p->frag_offset);
    if (!e) {
        return (p->frag_offset ? FS_CTR_ERR_FRAG_ORPHAN
                : FS_CTR_ERR_FRAG_TABLE_FULL);
    }
    if (p->frag_offset) {
        /* Entries are made by first fragments only. */
        p->key.src_port = e->src_port;
        p->key.dst_port = e->dst_port;
        p->frag_ports_known = 1;
    }
    e->last_ns = now_ns;

    error = frag_add_range(e, p->frag_offset, end);
    if (error) {
        return error;
    }
    if (!p->frag_offset) {
        frags->n_first += !e->have_first;
        e->have_first = 1;
        e->src_port = p->key.src_port;
        e->dst_port = p->key.dst_port;
    }
    if (!p->more_fragments) {
        e->total_len = end;
    }
    if (e->total_len && e->n_ranges == 1 && e->ranges[0].start == 0
        && e->ranges[0].end == e->total_len) {
        e->in_use = 0;          /* Complete. */
        frags->n_first -= frags->n_first && e->have_first;
    }
    return 0;
}

int
insp_frags_of_flow(const struct insp_frags *frags,
                   const struct fs_flow_key *key, uint64_t now_ns,
                   struct insp_frag_state *out, int max)
{
    uint32_t i, n_entries = (frags->set_mask + 1) * FRAG_WAYS;
    int n = 0;

    for (i = 0; frags->n_first && i < n_entries && n < max; i++) {
        const struct frag_entry *e = &frags->entries[i];
        bool fwd, rev;

        if (!frag_entry_live(e, now_ns) || !e->have_first
            || e->l4_proto != key->l4_proto) {
            continue;
        }
        fwd = (!memcmp(e->src_ip, key->src_ip, 16)
               && !memcmp(e->dst_ip, key->dst_ip, 16)
               && e->src_port == key->src_port
               && e->dst_port == key->dst_port);
        rev = (!memcmp(e->src_ip, key->dst_ip, 16)
               && !memcmp(e->dst_ip, key->src_ip, 16)
               && e->src_port == key->dst_port
               && e->dst_port == key->src_port);
        if (!fwd && !rev) {
            continue;
        }
        memset(&out[n], 0, sizeof out[n]);
        out[n].id = e->id;
        out[n].reverse = !fwd;
        out[n].n_ranges = e->n_ranges;
        out[n].total_len = e->total_len;
        out[n].age_ns = now_ns - e->last_ns;
        for (int r = 0; r < e->n_ranges; r++) {
            out[n].ranges[r][0] = e->ranges[r].start;
            out[n].ranges[r][1] = e->ranges[r].end;
        }
        n++;
    }
    return n;
}

bool
insp_frag_state_valid(const struct insp_frag_state *s)
{
    uint32_t prev_end = 0;

    if (!s->n_ranges || s->n_ranges > FRAG_MAX_RANGES || s->reverse > 1
        || s->ranges[0][0] != 0 || s->age_ns >= FRAG_TIMEOUT_NS
        || s->total_len > 65535) {
        return false;           /* The first fragment was seen: [0, ...). */
    }
    for (int r = 0; r < s->n_ranges; r++) {
        if (s->ranges[r][1] <= s->ranges[r][0] || s->ranges[r][1] > 65535
            || (r && s->ranges[r][0] <= prev_end)
            || (s->total_len && s->ranges[r][1] > s->total_len)) {
            return false;
        }
        prev_end = s->ranges[r][1];
    }
    return true;
}

int
insp_frags_restore(struct insp_frags *frags, const struct fs_flow_key *key,
                   const struct insp_frag_state *s, uint64_t now_ns)
{
    struct insp_parsed p;
    struct frag_entry *e;

    memset(&p, 0, sizeof p);
    p.key = *key;
    if (s->reverse) {
        memcpy(p.key.src_ip, key->dst_ip, 16);
        memcpy(p.key.dst_ip, key->src_ip, 16);
        p.key.src_port = key->dst_port;
        p.key.dst_port = key->src_port;
    }
    p.frag_id = s->id;
    e = frag_find(frags, &p, now_ns, true);
    if (!e) {
        return FS_CTR_ERR_FRAG_TABLE_FULL;
    }
    frags->n_first += !e->have_first;
    e->have_first = 1;
    e->src_port = p.key.src_port;
    e->dst_port = p.key.dst_port;
    e->total_len = s->total_len;
    e->last_ns = now_ns > s->age_ns ? now_ns - s->age_ns : 0;
    e->n_ranges = s->n_ranges;
    for (int r = 0; r < s->n_ranges; r++) {
        e->ranges[r].start = s->ranges[r][0];
        e->ranges[r].end = s->ranges[r][1];
    }
    return 0;
}
