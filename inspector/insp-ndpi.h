/*
 * The nDPI adapter: the one file that talks to nDPI, whose API changes
 * between versions.  Written for nDPI 4.2 (Debian 12).
 *
 * Per-flow nDPI state is an opaque block of insp_ndpi_flow_size() bytes
 * that the flow table owns (from its classification pool); this module
 * only initializes, feeds and releases it.
 */
#ifndef INSP_NDPI_H
#define INSP_NDPI_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowsteer/inspector.h"

struct insp_ndpi;
struct ndpi_detection_module_struct;

/* What nDPI found for a flow. */
struct insp_ndpi_result {
    uint16_t master_id;
    uint16_t app_id;
    uint16_t category;
    uint8_t guessed;            /* From nDPI's give-up guess. */
    uint64_t risks;
    char host[80];
    uint8_t ja3[16];            /* Binary JA3 client hash. */
    uint8_t has_ja3;
};

/* Creates a detection module configured from 'opts' (its nDPI file
 * names).  Returns 0 or a negative errno; on error, 'err' holds a message. */
int insp_ndpi_create(const struct fs_inspector_opts *opts,
                     struct insp_ndpi **out, char *err, size_t err_size);
void insp_ndpi_destroy(struct insp_ndpi *);

/* Returns the nDPI detection module, for tests that must reach nDPI itself
 * (the packet fuzz target empties its caches between inputs). */
struct ndpi_detection_module_struct *insp_ndpi_module(struct insp_ndpi *);

/* Bytes of per-flow nDPI state. */
size_t insp_ndpi_flow_size(void);

/* Prepares 'block' (insp_ndpi_flow_size() bytes) for a new flow. */
void insp_ndpi_flow_init(void *block);

/* Frees what nDPI allocated for the flow in 'block' (not 'block'). */
void insp_ndpi_flow_release(void *block);

/* What insp_ndpi_process() returns. */
enum {
    INSP_NDPI_MORE,             /* Nothing detected yet. */
    INSP_NDPI_DONE,             /* Classification is over: '*res'. */
    INSP_NDPI_DETECTED,         /* Detected ('*res': application, host,
                                 * JA3), more packets may add details. */
};

/* Feeds the IP packet 'l3' of 'l3_len' bytes, seen at 'ts_ms', to the flow
 * in 'block'.  'n_packets' is the flow's packet count including this one;
 * past 'budget' packets, classification ends with what is known.  Returns
 * INSP_NDPI_*; INSP_NDPI_DETECTED only if 'want_detected' (else
 * INSP_NDPI_MORE, and '*res' is left alone). */
int insp_ndpi_process(struct insp_ndpi *, void *block, const uint8_t *l3,
                      uint32_t l3_len, uint64_t ts_ms, uint32_t n_packets,
                      uint32_t budget, bool want_detected,
                      struct insp_ndpi_result *res);

/* Ends classification of the flow in 'block' with what nDPI knows now,
 * filling '*res'. */
void insp_ndpi_giveup(struct insp_ndpi *, void *block,
                      struct insp_ndpi_result *res);

/* Writes the protocol name as ndpiReader prints it ("TLS.YouTube", "DNS",
 * "Unknown") into 'buf' and returns 'buf'. */
const char *insp_ndpi_proto_name(struct insp_ndpi *, uint16_t master_id,
                                 uint16_t app_id, char *buf, size_t size);

/* Returns the name of the protocol 'id' alone (static storage). */
const char *insp_ndpi_app_name(struct insp_ndpi *, uint16_t id);

/* Returns the category name (static storage of nDPI). */
const char *insp_ndpi_category_name(struct insp_ndpi *, uint16_t category);

/* Returns nDPI's version string. */
const char *insp_ndpi_version(void);

#endif /* INSP_NDPI_H */
