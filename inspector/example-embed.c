/*
 * example-embed: how an appliance embeds libflowsteer-inspector.
 *
 * It brings its own packet I/O (here, a classic pcap file read with plain
 * stdio, standing in for a NIC ring), hands packets to the inspector in
 * bursts, drops what the verdicts say to drop, and prints every verdict as
 * it is decided.  Build it against an installed library with:
 *
 *     cc example-embed.c $(pkg-config --cflags --libs flowsteer-inspector)
 *
 * Usage: example-embed CAPTURE.pcap [POLICY-TEXT]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowsteer/inspector.h>

#define BURST 32
#define MAX_FRAME 65535

struct frame {
    uint8_t data[MAX_FRAME];
};

static void
on_event(void *aux, enum fs_event_type type, const struct fs_flow_info *f,
         const struct fs_verdict *old)
{
    char src[64], dst[64];
    unsigned int *n_verdicts = aux;

    if (type != FS_EVENT_VERDICT) {
        return;
    }
    (*n_verdicts)++;
    printf("verdict %s:%u -> %s:%u proto %u app %s host %s: %s (rule %s)\n",
           fs_ip_format(f->key.src_ip, src, sizeof src), f->key.src_port,
           fs_ip_format(f->key.dst_ip, dst, sizeof dst), f->key.dst_port,
           f->key.l4_proto, f->app, *f->host ? f->host : "-",
           f->verdict.actions & FS_ACT_DROP ? "drop" : "allow", f->rule);
}

static uint32_t
get32(const uint8_t *p, int swap)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

int
main(int argc, char *argv[])
{
    static struct frame frames[BURST];
    struct fs_packet pkts[BURST];
    uint8_t actions[BURST], hdr[24], rec[16];
    unsigned int n_verdicts = 0, n_dropped = 0;
    struct fs_inspector *insp;
    int swap, nsec, error, link_type;
    FILE *file;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CAPTURE.pcap [POLICY-TEXT]\n", argv[0]);
        return 2;
    }
    file = fopen(argv[1], "rb");
    if (!file || fread(hdr, 1, sizeof hdr, file) != sizeof hdr) {
        fprintf(stderr, "%s: cannot read a pcap header\n", argv[1]);
        return 1;
    }
    /* Classic pcap only: magic a1b2c3d4 (usec) or a1b23c4d (nsec). */
    swap = hdr[0] == 0xa1;
    nsec = get32(hdr, swap) == 0xa1b23c4d;
    if (!nsec && get32(hdr, swap) != 0xa1b2c3d4) {
        fprintf(stderr, "%s: not a classic pcap file\n", argv[1]);
        return 1;
    }
    link_type = (int) get32(hdr + 20, swap);

    FS_INSPECTOR_OPTS(opts, .max_flows = 4096, .event_cb = on_event,
                      .event_aux = &n_verdicts);
    error = fs_inspector_create(&opts, &insp);
    if (error) {
        fprintf(stderr, "fs_inspector_create: %s\n", strerror(-error));
        return 1;
    }
    printf("libflowsteer-inspector %s with nDPI %s\n",
           fs_inspector_version(), fs_inspector_ndpi_version());
    if (argc > 2) {
        char err[256];

        error = fs_inspector_set_policy(insp, "argv", argv[2], NULL, err,
                                        sizeof err);
        if (error) {
            fprintf(stderr, "bad policy: %s\n", err);
            return 1;
        }
    }

    for (;;) {
        unsigned int n = 0, i;

        /* Fill one burst. */
        while (n < BURST && fread(rec, 1, sizeof rec, file) == sizeof rec) {
            uint32_t caplen = get32(rec + 8, swap);

            if (caplen > MAX_FRAME
                || fread(frames[n].data, 1, caplen, file) != caplen) {
                break;
            }
            pkts[n].data = frames[n].data;
            pkts[n].caplen = caplen;
            pkts[n].len = get32(rec + 12, swap);
            pkts[n].ts_ns = (uint64_t) get32(rec, swap) * 1000000000
                            + (uint64_t) get32(rec + 4, swap)
                              * (nsec ? 1 : 1000);
            pkts[n].port = 1;
            pkts[n].link_type = link_type;
            n++;
        }
        if (!n) {
            break;
        }
        fs_inspector_process_burst(insp, pkts, n, actions);
        for (i = 0; i < n; i++) {
            n_dropped += actions[i] == FS_PKT_DROP;
        }
    }
    fclose(file);
    fs_inspector_giveup_all(insp);
    printf("%" PRIu64 " packets, %u verdicts, %u packets dropped\n",
           fs_inspector_counter(insp, FS_CTR_PACKETS), n_verdicts,
           n_dropped);
    fs_inspector_destroy(insp);
    return 0;
}
