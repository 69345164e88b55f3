/*
 * inspect-memory: what a flow costs in resident memory, measured.
 *
 * The inspector reports bytes_per_flow and bytes_per_classifying from the
 * sizes of its records; this program measures the process's resident set
 * (/proc/self/statm) instead:
 *
 *   fixed:        what an inspector for 1000 flows costs (nDPI's tables);
 *   decided:      what an inspector for N flows costs once N distinct UDP
 *                 flows, decided on their first packet by an L3/L4 rule,
 *                 fill it, beyond the fixed part, per flow (the flow table
 *                 is allocated when the inspector is made);
 *   classifying:  what TCP SYNs that a rule on the application keeps in
 *                 classification add, per flow (nDPI's per-flow state,
 *                 from the pool that max_memory bounds), up to N/2 of them
 *                 after N/2 decided ones.
 *
 * Uses only the public API.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowsteer/inspector.h"

static const char *program_name = "inspect-memory";

/* Flows of the inspector whose cost stands for the fixed part. */
#define SMALL 1000

static void fatal(const char *msg, int error) __attribute__((noreturn));

static void
fatal(const char *msg, int error)
{
    fprintf(stderr, "%s: %s%s%s\n", program_name, msg, error ? ": " : "",
            error ? strerror(error) : "");
    exit(EXIT_FAILURE);
}

/* Resident bytes of this process. */
static uint64_t
rss_bytes(void)
{
    unsigned long size, resident;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2) {
        fatal("/proc/self/statm", errno);
    }
    fclose(f);
    return (uint64_t) resident * sysconf(_SC_PAGESIZE);
}

/* An Ethernet + IPv4 frame from 10.x.y.z:sport to 10.255.0.1:dport,
 * protocol 'proto' (UDP with 8 bytes of payload, or a TCP SYN). */
static size_t
build(uint8_t *f, uint8_t proto, uint32_t n, uint16_t sport, uint16_t dport)
{
    size_t l4 = proto == 17 ? 16 : 20, len = 14 + 20 + l4;
    uint8_t *ip = f + 14, *l = ip + 20;

    memset(f, 0, len);
    memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    ip[0] = 0x45;
    ip[2] = (20 + l4) >> 8;
    ip[3] = (20 + l4) & 0xff;
    ip[8] = 64;
    ip[9] = proto;
    ip[12] = 10;
    ip[13] = n >> 16;
    ip[14] = n >> 8;
    ip[15] = n;
    memcpy(ip + 16, "\x0a\xff\x00\x01", 4);
    l[0] = sport >> 8;
    l[1] = sport;
    l[2] = dport >> 8;
    l[3] = dport;
    if (proto == 17) {
        l[5] = l4;
    } else {
        l[12] = 5 << 4;
        l[13] = 0x02;           /* SYN */
        l[14] = 0xff;
    }
    return len;
}

/* An inspector for 'n' flows, with a policy that decides UDP on its first
 * packet and keeps TCP in classification until it knows the application. */
static struct fs_inspector *
make(unsigned long n)
{
    FS_INSPECTOR_OPTS(opts, .max_flows = n);
    struct fs_inspector *insp;
    int error;

    error = fs_inspector_create(&opts, &insp);
    if (error) {
        fatal("cannot create the inspector", -error);
    }
    error = fs_inspector_set_policy(insp, "bench",
                                    "priority=200, udp, actions=allow\n"
                                    "priority=100, tcp, app=HTTP, "
                                    "actions=allow\n"
                                    "priority=0, actions=allow\n",
                                    NULL, NULL, 0);
    if (error) {
        fatal("bad policy", -error);
    }
    return insp;
}

static void
usage(void)
{
    printf("Usage: %s [--flows=N] [--json]\n"
           "Measures the resident memory that N decided flows (default "
           "100000) and a full\nclassification pool cost the inspector.\n",
           program_name);
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"flows", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    FS_INSPECTOR_STATS(st);
    uint64_t rss0, rss1, rss2, created, fixed, decided, classifying;
    unsigned long n_flows = 100000, n_cls;
    struct fs_inspector *insp, *small;
    struct fs_packet pkt;
    bool json = false;
    uint8_t frame[64];
    char *end;
    unsigned long i;
    int c;

    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case 'n':
            errno = 0;
            n_flows = strtoul(optarg, &end, 10);
            if (errno || *end || n_flows < 1000 || n_flows > 10000000) {
                fatal("--flows: want 1000 to 10000000", 0);
            }
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage();
            return EXIT_SUCCESS;
        default:
            fprintf(stderr, "Try '%s --help'.\n", program_name);
            return EXIT_FAILURE;
        }
    }

    /* What an inspector costs whatever its size (nDPI's tables): one for
     * SMALL flows, kept alive so that a second one does not reuse its
     * memory.  An inspector allocates its flow table when it is made. */
    rss0 = rss_bytes();
    small = make(SMALL);
    rss1 = rss_bytes();
    fixed = rss1 - rss0;

    /* Decided flows, in a table of exactly that many: what they cost over
     * the small inspector, per flow more than it holds. */
    rss0 = rss_bytes();
    insp = make(n_flows);
    memset(&pkt, 0, sizeof pkt);
    pkt.data = frame;
    pkt.port = 1;
    pkt.link_type = FS_LINK_ETHERNET;
    for (i = 0; i < n_flows; i++) {
        pkt.caplen = pkt.len = build(frame, 17, i, 1024 + i % 50000, 53);
        pkt.ts_ns = 1000000000ULL + i;
        fs_inspector_process(insp, &pkt);
    }
    rss2 = rss_bytes();
    decided = rss2 - rss0 > fixed ? rss2 - rss0 - fixed : 0;
    fs_inspector_get_stats(insp, &st);
    created = fs_inspector_counter(insp, FS_CTR_FLOWS_CREATED);
    if (created != n_flows || st.flows != n_flows) {
        fprintf(stderr, "%s: expected %lu flows; got %" PRIu64 " (%u live)\n",
                program_name, n_flows, created, st.flows);
        return EXIT_FAILURE;
    }
    fs_inspector_destroy(insp);

    /* Classifying flows: as many as the pool of a table of that size
     * holds, at most half of it, fed after the table's own pages are in
     * (a decided flow each, then the SYNs). */
    insp = make(n_flows);
    fs_inspector_get_stats(insp, &st);
    n_cls = st.max_classifying < n_flows / 2 ? st.max_classifying
                                             : n_flows / 2;
    for (i = 0; i < n_flows - n_cls; i++) {
        pkt.caplen = pkt.len = build(frame, 17, i, 1024 + i % 50000, 53);
        pkt.ts_ns = 1000000000ULL + i;
        fs_inspector_process(insp, &pkt);
    }
    rss1 = rss_bytes();
    for (i = 0; i < n_cls; i++) {
        pkt.caplen = pkt.len = build(frame, 6, n_flows + i, 1024 + i % 50000,
                                     80);
        pkt.ts_ns = 2000000000ULL + i;
        fs_inspector_process(insp, &pkt);
    }
    rss2 = rss_bytes();
    fs_inspector_get_stats(insp, &st);
    /* nDPI may decide a few SYNs by port alone: count those that stay. */
    if (st.flows_classifying < n_cls * 0.99) {
        fprintf(stderr, "%s: expected %lu flows classifying; got %u\n",
                program_name, n_cls, st.flows_classifying);
        return EXIT_FAILURE;
    }
    n_cls = st.flows_classifying;
    /* What the SYN flows cost beyond a decided one's share of the table
     * (whose pages are already in). */
    classifying = rss2 - rss1;

    if (json) {
        printf("{\"flows\": %lu, \"classifying\": %lu"
               ", \"bytes_per_flow\": %u, \"bytes_per_classifying\": %u"
               ", \"rss_fixed\": %" PRIu64 ", \"rss_per_flow\": %.1f"
               ", \"rss_per_classifying\": %.1f}\n",
               n_flows, n_cls, st.bytes_per_flow, st.bytes_per_classifying,
               fixed, (double) decided / (n_flows - SMALL),
               (double) classifying / n_cls);
    } else {
        printf("any inspector:     RSS +%" PRIu64 " bytes (one for %d "
               "flows: nDPI's tables)\n", fixed, SMALL);
        printf("decided flows:     %lu, RSS +%" PRIu64 " bytes more: %.1f "
               "bytes per flow (the inspector says %u)\n", n_flows, decided,
               (double) decided / (n_flows - SMALL), st.bytes_per_flow);
        printf("classifying flows: %lu, RSS +%" PRIu64 " bytes: %.1f bytes "
               "per flow more (the inspector says %u)\n", n_cls,
               classifying, (double) classifying / n_cls,
               st.bytes_per_classifying);
    }
    fs_inspector_destroy(insp);
    fs_inspector_destroy(small);
    return EXIT_SUCCESS;
}
