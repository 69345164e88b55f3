/*
 * The nDPI adapter.  See insp-ndpi.h.
 *
 * Classification follows what nDPI's own ndpiReader does with a flow, so
 * that the two agree: feed every packet until nDPI names an application,
 * keep feeding while nDPI can still fill in details (TLS certificate, HTTP
 * response, DNS answer), and after a budget of packets give up and take
 * nDPI's guess.
 */
#include <config.h>
#include "insp-ndpi.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ndpi_api.h>

struct insp_ndpi {
    struct ndpi_detection_module_struct *mod;
};

/* Loads one optional nDPI file with 'load', checking readability first so
 * that the error says what is wrong. */
static int
load_file(struct ndpi_detection_module_struct *mod, const char *path,
          const char *what,
          int (*load)(struct ndpi_detection_module_struct *, const char *),
          char *err, size_t err_size)
{
    if (!path) {
        return 0;
    }
    if (access(path, R_OK)) {
        int error = errno;

        snprintf(err, err_size, "%s file %s: %s", what, path,
                 strerror(error));
        return -error;
    }
    if (load(mod, path) < 0) {
        snprintf(err, err_size, "%s file %s: nDPI could not load it", what,
                 path);
        return -EINVAL;
    }
    return 0;
}

static int
load_protocols(struct ndpi_detection_module_struct *mod, const char *path)
{
    return ndpi_load_protocols_file(mod, path);
}

int
insp_ndpi_create(const struct fs_inspector_opts *opts,
                 struct insp_ndpi **out, char *err, size_t err_size)
{
    NDPI_PROTOCOL_BITMASK all;
    struct insp_ndpi *n;
    int error;

    *out = NULL;
    n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    n->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (!n->mod) {
        free(n);
        snprintf(err, err_size, "nDPI initialization failed");
        return -ENOMEM;
    }
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(n->mod, &all);

    error = load_file(n->mod, opts->protos_file, "protocols",
                      load_protocols, err, err_size);
    if (!error) {
        error = load_file(n->mod, opts->categories_file, "categories",
                          ndpi_load_categories_file, err, err_size);
    }
    if (!error) {
        error = load_file(n->mod, opts->risky_domains_file, "risky domains",
                          ndpi_load_risk_domain_file, err, err_size);
    }
    if (!error) {
        error = load_file(n->mod, opts->ja3_file, "JA3 fingerprints",
                          ndpi_load_malicious_ja3_file, err, err_size);
    }
    if (!error) {
        error = load_file(n->mod, opts->sha1_file, "SHA1 fingerprints",
                          ndpi_load_malicious_sha1_file, err, err_size);
    }
    if (error) {
        insp_ndpi_destroy(n);
        return error;
    }
    ndpi_finalize_initialization(n->mod);
    *out = n;
    return 0;
}

void
insp_ndpi_destroy(struct insp_ndpi *n)
{
    if (n) {
        ndpi_exit_detection_module(n->mod);
        free(n);
    }
}

struct ndpi_detection_module_struct *
insp_ndpi_module(struct insp_ndpi *n)
{
    return n->mod;
}

size_t
insp_ndpi_flow_size(void)
{
    return ndpi_detection_get_sizeof_ndpi_flow_struct();
}

void
insp_ndpi_flow_init(void *block)
{
    memset(block, 0, insp_ndpi_flow_size());
}

void
insp_ndpi_flow_release(void *block)
{
    ndpi_free_flow_data(block);
}

static int
is_proto(ndpi_protocol p, uint16_t id)
{
    return p.master_protocol == id || p.app_protocol == id;
}

static int
hex_nibble(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1);
}

/* Copies what nDPI found for 'flow', classified as 'p', into '*res'. */
static void
fill_result(struct ndpi_flow_struct *flow, ndpi_protocol p, int guessed,
            struct insp_ndpi_result *res)
{
    memset(res, 0, sizeof *res);
    res->master_id = p.master_protocol;
    res->app_id = p.app_protocol;
    res->category = p.category;
    res->guessed = guessed;
    res->risks = flow->risk;
    snprintf(res->host, sizeof res->host, "%s", flow->host_server_name);

    if (is_proto(p, NDPI_PROTOCOL_TLS) || is_proto(p, NDPI_PROTOCOL_QUIC)
        || is_proto(p, NDPI_PROTOCOL_DTLS)) {
        const char *ja3 = flow->protos.tls_quic.ja3_client;
        int i;

        for (i = 0; i < 16; i++) {
            int hi = hex_nibble(ja3[2 * i]);
            int lo = hi < 0 ? -1 : hex_nibble(ja3[2 * i + 1]);

            if (lo < 0) {
                break;
            }
            res->ja3[i] = hi << 4 | lo;
        }
        res->has_ja3 = i == 16;
    }
}

/* Returns true if nDPI, parsing 'l3' itself, finds the complete TCP or UDP
 * header that 'flow' (as nDPI has seen it so far) needs, or if 'flow' is
 * neither TCP nor UDP yet.
 *
 * Our parser and nDPI's differ: nDPI does not follow IPv6 AH (51), Shim6
 * (140) or HIP (139) headers, and it takes a TCP header shorter than its
 * data offset (which we flag but still judge with its flow) as no TCP
 * header at all.  Given such a packet, nDPI 4.2 leaves both 'packet->tcp'
 * and 'packet->udp' NULL, and extra dissectors that expect one of them
 * crash: ndpi_skip_bittorrent() reads 'packet->tcp->source'
 * (protocols/bittorrent.c:482) once a BitTorrent flow has carried more
 * than 8 packets with payload.  Such a packet has no payload for nDPI, or
 * one of another protocol than its flow's, so nDPI learns nothing true of
 * the flow from it: it is withheld (and still judged with its flow). */
static bool
l4_fits_flow(const struct ndpi_flow_struct *flow, const uint8_t *l3,
             uint16_t l3_len)
{
    const uint8_t *l4;
    uint16_t l4_len;
    uint8_t proto;

    if (flow->l4_proto != IPPROTO_TCP && flow->l4_proto != IPPROTO_UDP) {
        return true;
    }
    if (ndpi_detection_get_l4(l3, l3_len, &l4, &l4_len, &proto, 0)) {
        return true;            /* nDPI ignores it before any dissector. */
    }
    if (proto != flow->l4_proto) {
        return false;
    } else if (proto == IPPROTO_TCP) {
        return l4_len >= 20 && l4_len >= (l4[12] >> 4) * 4;
    } else {
        return l4_len >= 8;
    }
}

int
insp_ndpi_process(struct insp_ndpi *n, void *block, const uint8_t *l3,
                  uint32_t l3_len, uint64_t ts_ms, uint32_t n_packets,
                  uint32_t budget, bool want_detected,
                  struct insp_ndpi_result *res)
{
    struct ndpi_flow_struct *flow = block;
    int enough = n_packets > budget;
    ndpi_protocol p;

    if (l3_len > 0xffff) {
        l3_len = 0xffff;
    }
    if (l4_fits_flow(flow, l3, l3_len)) {
        p = ndpi_detection_process_packet(n->mod, flow, l3, l3_len, ts_ms);
    } else {
        /* What nDPI would answer without dissecting. */
        p.master_protocol = flow->detected_protocol_stack[1];
        p.app_protocol = flow->detected_protocol_stack[0];
        p.category = flow->category;
    }
    if (!enough && p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
        return INSP_NDPI_MORE;
    }
    if (!enough && ndpi_extra_dissection_possible(n->mod, flow)) {
        /* E.g. waiting for the certificate. */
        if (!want_detected) {
            return INSP_NDPI_MORE;
        }
        fill_result(flow, p, 0, res);
        return INSP_NDPI_DETECTED;
    }
    if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
        insp_ndpi_giveup(n, block, res);
    } else {
        fill_result(flow, p, 0, res);
    }
    return INSP_NDPI_DONE;
}

void
insp_ndpi_giveup(struct insp_ndpi *n, void *block,
                 struct insp_ndpi_result *res)
{
    struct ndpi_flow_struct *flow = block;
    uint8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(n->mod, flow, 1, &guessed);

    fill_result(flow, p, guessed, res);
}

const char *
insp_ndpi_proto_name(struct insp_ndpi *n, uint16_t master_id,
                     uint16_t app_id, char *buf, size_t size)
{
    ndpi_protocol p = NDPI_PROTOCOL_NULL;

    p.master_protocol = master_id;
    p.app_protocol = app_id;
    return ndpi_protocol2name(n->mod, p, buf, size);
}

const char *
insp_ndpi_app_name(struct insp_ndpi *n, uint16_t id)
{
    return ndpi_get_proto_name(n->mod, id);
}

const char *
insp_ndpi_category_name(struct insp_ndpi *n, uint16_t category)
{
    const char *name = ndpi_category_get_name(n->mod, category);

    return name ? name : "Unspecified";
}

const char *
insp_ndpi_version(void)
{
    return ndpi_revision();
}
