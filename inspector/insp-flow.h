/*
 * The flow table: a fixed array of flow records sized at creation, a hash
 * of bidirectional keys, and per-protocol LRU lists for idle expiry and
 * eviction.  No allocation after creation.
 */
#ifndef INSP_FLOW_H
#define INSP_FLOW_H 1

#include <stdbool.h>
#include <stdint.h>
#include "flowsteer/inspector.h"

#define INSP_NIL UINT32_MAX

/* LRU classes, each with its own idle timeout. */
enum insp_lru {
    INSP_LRU_TCP,
    INSP_LRU_UDP,
    INSP_LRU_OTHER,
    INSP_N_LRU
};

/* One flow.  A decided flow costs exactly this (plus 4 bytes of hash
 * bucket); a flow in classification adds an nDPI block (see
 * insp_ndpi_flow_size()). */
struct insp_flow {
    struct fs_flow_key key;     /* As first seen: src sent packet 1. */
    uint64_t id;                /* fs_flow_info's 'id'. */
    uint32_t hash;
    uint32_t hash_next;         /* Next in bucket, or in the free list. */
    uint32_t lru_prev;
    uint32_t lru_next;
    uint32_t port;              /* Ingress port of the first packet. */
    uint32_t peer_port;         /* Port of the VM it goes to, by its MAC,
                                 * or 0. */
    uint32_t owner;             /* The known port whose flow it is, for
                                 * per-port limits: 'port' if the
                                 * inspector knows it, else 'peer_port',
                                 * else 0. */
    uint32_t cls;               /* nDPI block index, INSP_NIL if none. */
    uint64_t first_seen_ns;
    uint64_t last_seen_ns;
    uint64_t packets[2];        /* [0] src->dst, [1] dst->src. */
    uint64_t bytes[2];
    uint64_t risks;
    uint32_t host_id;           /* In the inspector's string table. */
    int32_t rule_index;
    int32_t rule_priority;
    struct fs_verdict verdict;
    uint16_t master_id;
    uint16_t app_id;
    uint16_t category;
    uint16_t packets_inspected;
    uint8_t ja3[16];
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint8_t state;              /* enum fs_flow_state. */
    uint8_t lru;                /* enum insp_lru. */
    uint8_t in_use;
    uint8_t classified;         /* DPI fields are filled in. */
    uint8_t has_ja3;
    uint8_t guessed;
    uint8_t tcp_flags[2];       /* Flags seen per direction. */
    uint8_t syn_seen;           /* Bit N: a SYN came from direction N. */
    uint8_t closed;             /* A FIN or RST of it was let through. */
    uint8_t pinned;             /* Kept for the caller: no expiry, no
                                 * eviction, not on an LRU list. */
    uint8_t end_reason;         /* enum fs_flow_end, while ending. */
    uint8_t inputs_lost;        /* Restored from a verdict alone
                                 * (fs_inspector_import_verdict()). */
    uint32_t syn_seq[2];        /* Sequence number of that SYN. */
    uint32_t next_seq[2];       /* Per direction, once 'seq_known': the
                                 * next sequence number in order. */
    uint8_t seq_known;          /* Bit N: next_seq[N] is known. */
    uint32_t epoch;             /* The inspector's epoch when it last
                                 * changed (fs_inspector_mark()). */
    uint64_t origin_id;         /* Its id in the inspector it was imported
                                 * from, or 0. */
};

struct insp_flow_table {
    struct insp_flow *flows;
    uint32_t *buckets;
    uint32_t bucket_mask;
    uint32_t seed;
    uint32_t capacity;
    uint32_t n_flows;
    uint32_t n_pinned;
    uint32_t free_head;
    uint32_t lru_head[INSP_N_LRU];  /* Least recently seen. */
    uint32_t lru_tail[INSP_N_LRU];
};

/* Allocates a table of 'capacity' flows, hashing with 'seed'.  Returns 0
 * or -ENOMEM. */
int insp_flow_table_init(struct insp_flow_table *, uint32_t capacity,
                         uint32_t seed);
void insp_flow_table_uninit(struct insp_flow_table *);

/* Bytes held by the table. */
uint64_t insp_flow_table_memory(const struct insp_flow_table *);

/* Returns the same hash for a key and its reverse. */
uint32_t insp_flow_hash(const struct insp_flow_table *,
                        const struct fs_flow_key *);

/* Returns the index of the flow with 'key' or its reverse, or INSP_NIL.
 * Sets '*reverse' to 1 if 'key' is the flow's reverse direction. */
uint32_t insp_flow_lookup(const struct insp_flow_table *,
                          const struct fs_flow_key *, uint32_t hash,
                          int *reverse);

/* Adds a zeroed flow for 'key' at the LRU tail of its class.  Returns its
 * index, or INSP_NIL if the table is full. */
uint32_t insp_flow_insert(struct insp_flow_table *,
                          const struct fs_flow_key *, uint32_t hash);

/* Removes flow 'idx'. */
void insp_flow_remove(struct insp_flow_table *, uint32_t idx);

/* Marks flow 'idx' most recently seen (a pinned flow stays off the LRU
 * lists). */
void insp_flow_touch(struct insp_flow_table *, uint32_t idx);

/* Moves flow 'idx' (not pinned) to where its last_seen_ns puts it in its
 * LRU list, for a flow that comes with a time of its own (an import), so
 * that expiry, which stops at the first flow still in time, finds it in
 * time.  Walks from the tail, at most 1024 flows (then it goes to the
 * head): cheap for a batch imported oldest first. */
void insp_flow_place(struct insp_flow_table *, uint32_t idx);

/* Pins flow 'idx' (takes it off its LRU list: it is neither expired nor
 * evicted) or unpins it (back at the LRU tail, as if just seen). */
void insp_flow_set_pinned(struct insp_flow_table *, uint32_t idx,
                          bool pinned);

/* Returns the index of the flow with id 'id' and key 'key' (either
 * direction), or INSP_NIL. */
uint32_t insp_flow_find_id(const struct insp_flow_table *,
                           const struct fs_flow_key *key, uint64_t id);

static inline struct insp_flow *
insp_flow_get(const struct insp_flow_table *t, uint32_t idx)
{
    return &t->flows[idx];
}

#endif /* INSP_FLOW_H */
