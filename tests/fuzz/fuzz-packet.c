/*
 * libFuzzer target for the packet path: parser, fragment tracking, flow
 * table and nDPI adapter, through the public API (and the adapter's nDPI
 * module, to empty its caches).
 *
 * The first input byte picks the link type; the rest is split into up to
 * MAX_FRAMES frames at 0xff 0xfe markers, so that one input can build a
 * flow (several packets, both directions) and reach the classifier, its
 * extra dissection after detection (a TLS certificate, or a dissector
 * that looks only after 8 packets with payload, takes dozens), and the
 * fragment table.
 *
 * Each input is a self-contained sequence of frames, so that a crash
 * artifact reproduces alone: at its end the flows are given up and flushed
 * (their end paths run too), and nDPI's caches across flows are emptied
 * (ndpi-forget.c), so that every input starts from an empty flow table
 * and no host known to nDPI.  (A new inspector per input would do it too,
 * at 28 ms each.)
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flowsteer/inspector.h"
#include "insp-ndpi.h"
#include "insp-private.h"
#include "ndpi-forget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
    FS_LINK_ETHERNET, FS_LINK_RAW, FS_LINK_LINUX_SLL, FS_LINK_NULL,
    FS_LINK_PPP, FS_LINK_PPP_HDLC, FS_LINK_C_HDLC, FS_LINK_IPV4,
    FS_LINK_IPV6, 147 /* unsupported */,
};

static struct fs_inspector *
get_inspector(void)
{
    static struct fs_inspector *insp;

    if (!insp) {
        FS_INSPECTOR_OPTS(opts, .max_flows = 64, .decode_tunnels = 1,
                          .classify_all = 1);
        char err[128];

        if (fs_inspector_create(&opts, &insp)) {
            __builtin_trap();
        }
        if (fs_inspector_set_policy(insp, "fuzz",
                                    "priority=10, tcp, tp_dst=80, "
                                    "actions=drop\n"
                                    "priority=5, app=DNS, actions=log\n",
                                    NULL, err, sizeof err)) {
            __builtin_trap();
        }
    }
    return insp;
}

#define MAX_FRAMES 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fs_inspector *insp = get_inspector();
    struct fs_packet pkts[MAX_FRAMES];
    uint8_t actions[MAX_FRAMES];
    uint64_t ts = 1000000000;
    size_t start, i;
    unsigned int n = 0;
    int link;

    if (!size) {
        return 0;
    }
    link = link_types[data[0] % (sizeof link_types / sizeof *link_types)];
    for (start = i = 1; i <= size && n < MAX_FRAMES; i++) {
        if (i == size || (i + 1 < size && data[i] == 0xff
                          && data[i + 1] == 0xfe)) {
            pkts[n].data = data + start;
            pkts[n].caplen = i - start;
            pkts[n].len = i - start + (data[0] & 0x80 ? 20 : 0);
            pkts[n].ts_ns = ts += 1000000;
            pkts[n].port = n & 1;
            pkts[n].link_type = link;
            n++;
            start = i + 2;
            i++;
        }
    }
    fs_inspector_process_burst(insp, pkts, n, actions);

    fs_inspector_giveup_all(insp);
    fs_inspector_flush(insp);
    fuzz_ndpi_forget(insp_ndpi_module(insp->ndpi));
    return 0;
}
