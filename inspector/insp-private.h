/*
 * Internals of struct fs_inspector, shared by inspector.c and the unit
 * tests.  Not installed.
 */
#ifndef INSP_PRIVATE_H
#define INSP_PRIVATE_H 1

#include <stdint.h>
#include "flowsteer/inspector.h"
#include "insp-flow.h"
#include "insp-strtab.h"

struct insp_ndpi;
struct insp_policy;
struct insp_frags;

/* A port the embedder told us about (fs_inspector_set_port()). */
struct insp_port {
    uint32_t port;
    char *name;
    char *profile;
    uint8_t mac[6];             /* The VM's MAC (fs_inspector_set_port_mac()),
                                 * if 'has_mac'. */
    uint8_t has_mac;
    uint32_t n_flows;           /* Live flows it owns (see insp_flow). */
};

/* Pool of per-flow blocks for flows in classification, allocated in
 * chunks as needed up to 'max' blocks and reused after that.  A block is
 * an insp_payload (INSP_CLS_HEAD bytes) and then nDPI's flow state. */
#define INSP_CLS_CHUNK 256
#define INSP_CLS_HEAD 64

/* The packets a classifying flow gave nDPI, kept for migration: entries as
 * in a record's payload (insp-record.h), with the packet's time, not its
 * age, in the first field. */
struct insp_payload {
    uint8_t *buf;
    uint32_t len;
    uint32_t cap;
    uint8_t cut;                /* Some packets did not fit. */
};

struct insp_cls_pool {
    size_t block_size;
    uint32_t max;               /* Bound on blocks (memory cap). */
    uint32_t n_used;
    uint32_t n_alloc;           /* Blocks allocated so far. */
    uint8_t **chunks;
    uint32_t *free;             /* Stack of free block indexes. */
    uint32_t n_free;
};

struct fs_inspector {
    struct fs_inspector_opts opts;      /* With defaults filled in; file
                                         * names cleared. */
    struct insp_ndpi *ndpi;
    struct insp_policy *policy;
    struct insp_flow_table table;
    struct insp_frags *frags;
    struct insp_strtab strings;
    struct insp_cls_pool cls;

    struct insp_port *ports;            /* Sorted by 'port'. */
    size_t n_ports;

    uint64_t timeout_ns[INSP_N_LRU];    /* UINT64_MAX: never. */
    uint32_t budget[INSP_N_LRU];
    uint64_t now_ns;                    /* Latest packet time. */
    uint64_t next_flow_id;
    uint64_t memory_peak;
    uint64_t counters[FS_N_COUNTERS];
    uint8_t exceptions[FS_N_EXCEPTIONS];    /* enum fs_exception_action, as
                                             * set by the embedder. */
    uint32_t hash_seed;                     /* Random, at creation. */
    uint32_t port_max_flows;                /* Per owner port, 0: none. */
    uint8_t port_full;                      /* enum fs_port_full_policy. */
    uint8_t port_full_hit;                  /* Set by flow_create(). */

    uint32_t epoch;                         /* fs_inspector_mark(). */
    uint64_t payload_memory;                /* Bytes of insp_payload bufs. */
    uint64_t policy_digest;

    /* Scratch space for struct fs_flow_info strings. */
    char app_buf[64];
    char ja3_buf[33];
};

#endif /* INSP_PRIVATE_H */
