/*
 * inspect-bench: throughput of libflowsteer-inspector on a capture.
 *
 * Loads every packet of a capture into memory first (one buffer, each packet
 * on its own cache line as in an mbuf, and an array of struct fs_packet),
 * then times, with CLOCK_MONOTONIC, the run of all packets through one
 * inspector with fs_inspector_process_burst() in bursts of 32, repeated R
 * times with a fresh inspector each time.  Creating and destroying the
 * inspector is not timed; neither is reading the capture.  Single thread.
 * With --stream, the file is read inside the timed loop instead and each
 * packet processed as it is read, as ndpiReader does, for a like-for-like
 * comparison.
 *
 * By default every flow is classified (classify_all), as ndpiReader does,
 * so that the figures compare the same work; with a policy (--policy) and
 * --no-classify-all, flows the policy decides on L3/L4 fields skip nDPI.
 *
 * Uses only the public API (include/flowsteer/inspector.h) and libpcap.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowsteer/inspector.h"

/* Packets per call to fs_inspector_process_burst(). */
#define BURST 32

/* Each packet's first byte is aligned like an mbuf's data. */
#define PKT_ALIGN 64

/* A capture loaded into memory. */
struct capture {
    const char *file_name;
    int link_type;              /* pcap DLT_*, passed as enum fs_link_type. */
    uint8_t *data;              /* All packets' bytes. */
    size_t data_len;
    size_t data_alloc;
    struct fs_packet *pkts;
    size_t n_pkts;
    size_t pkts_alloc;
    uint64_t bytes;             /* Sum of captured lengths. */
};

/* Figures of one repetition. */
struct rep_result {
    double seconds;
    unsigned int passed;
    struct fs_inspector_stats stats;
    uint64_t counters[FS_N_COUNTERS];
};

struct bench_opts {
    unsigned int repeat;        /* 0: enough for 'seconds'. */
    double seconds;
    uint32_t max_flows;
    bool classify_all;
    bool stream;                /* Read the file inside the timed loop. */
    const char *policy_file;
    bool json;
    bool counters;
    const char *protos_file;
    const char *categories_file;
    const char *risky_domains_file;
    const char *ja3_file;
    const char *sha1_file;
};

static const char *program_name = "inspect-bench";

static void fatal(const char *format, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", program_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

static void *
xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fatal("out of memory (%zu bytes)", size);
    }
    return p;
}

static void
usage(void)
{
    printf("\
%s: time libflowsteer-inspector on a capture\n\
usage: %s [OPTION]... CAPTURE\n\
\n\
Loads CAPTURE (pcap or pcapng, one link type) into memory, then runs all\n\
its packets through one inspector with fs_inspector_process_burst() in\n\
bursts of %d, R times with a fresh inspector each time, and prints\n\
packets/s, ns/packet, flows and memory per flow.  One untimed warm-up\n\
run comes first.  Single thread.  Every flow is classified, as\n\
ndpiReader does, unless --no-classify-all.\n\
\n\
Options:\n\
  -r, --repeat=N          time N runs (default: enough for --seconds)\n\
  -t, --seconds=S         target timed duration without -r (default 2)\n\
      --max-flows=N       flow table capacity (default: the library's)\n\
      --policy=FILE       load this policy (default: none)\n\
      --no-classify-all   let the policy decide flows on L3/L4 alone,\n\
                          without nDPI (default: classify every flow)\n\
      --stream            read each packet from the file inside the timed\n\
                          loop and process it at once with\n\
                          fs_inspector_process(), as ndpiReader does\n\
      --protos=FILE       nDPI protocols file (protos.txt)\n\
      --categories=FILE   nDPI custom categories file\n\
      --risky-domains=FILE  nDPI risky domains file\n\
      --ja3=FILE          nDPI malicious JA3 fingerprints file\n\
      --sha1=FILE         nDPI malicious certificate SHA1 file\n\
      --counters          also print the nonzero counters of the last run\n\
      --json              print one JSON object instead of text\n\
  -h, --help              print this help and exit\n\
  -V, --version           print the library version and exit\n",
           program_name, program_name, BURST);
}

static unsigned long long
parse_uint(const char *s, const char *what, unsigned long long max)
{
    unsigned long long v;
    char *end;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > max) {
        fatal("%s: '%s' is not a number between 0 and %llu", what, s, max);
    }
    return v;
}

static void
parse_options(int argc, char *argv[], struct bench_opts *bo,
              const char **capture)
{
    enum {
        OPT_MAX_FLOWS = UCHAR_MAX + 1,
        OPT_POLICY,
        OPT_NO_CLASSIFY_ALL,
        OPT_STREAM,
        OPT_PROTOS,
        OPT_CATEGORIES,
        OPT_RISKY_DOMAINS,
        OPT_JA3,
        OPT_SHA1,
        OPT_COUNTERS,
        OPT_JSON,
    };
    static const struct option long_options[] = {
        {"repeat", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 't'},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"no-classify-all", no_argument, NULL, OPT_NO_CLASSIFY_ALL},
        {"stream", no_argument, NULL, OPT_STREAM},
        {"protos", required_argument, NULL, OPT_PROTOS},
        {"categories", required_argument, NULL, OPT_CATEGORIES},
        {"risky-domains", required_argument, NULL, OPT_RISKY_DOMAINS},
        {"ja3", required_argument, NULL, OPT_JA3},
        {"sha1", required_argument, NULL, OPT_SHA1},
        {"counters", no_argument, NULL, OPT_COUNTERS},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    for (;;) {
        c = getopt_long(argc, argv, "r:t:hV", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'r':
            bo->repeat = parse_uint(optarg, "--repeat", 1000000);
            if (!bo->repeat) {
                fatal("--repeat: must be at least 1");
            }
            break;
        case 't':
            errno = 0;
            bo->seconds = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(bo->seconds > 0)
                || bo->seconds > 3600) {
                fatal("--seconds: '%s' is not a duration in (0, 3600]",
                      optarg);
            }
            break;
        case OPT_MAX_FLOWS:
            bo->max_flows = parse_uint(optarg, "--max-flows", UINT32_MAX);
            break;
        case OPT_POLICY:
            bo->policy_file = optarg;
            break;
        case OPT_NO_CLASSIFY_ALL:
            bo->classify_all = false;
            break;
        case OPT_STREAM:
            bo->stream = true;
            break;
        case OPT_PROTOS:
            bo->protos_file = optarg;
            break;
        case OPT_CATEGORIES:
            bo->categories_file = optarg;
            break;
        case OPT_RISKY_DOMAINS:
            bo->risky_domains_file = optarg;
            break;
        case OPT_JA3:
            bo->ja3_file = optarg;
            break;
        case OPT_SHA1:
            bo->sha1_file = optarg;
            break;
        case OPT_COUNTERS:
            bo->counters = true;
            break;
        case OPT_JSON:
            bo->json = true;
            break;
        case 'h':
            usage();
            exit(EXIT_SUCCESS);
        case 'V':
            printf("%s (libflowsteer-inspector %s, nDPI %s)\n",
                   program_name, fs_inspector_version(),
                   fs_inspector_ndpi_version());
            exit(EXIT_SUCCESS);
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n",
                    program_name);
            exit(EXIT_FAILURE);
        }
    }
    if (argc - optind != 1) {
        fatal("exactly one capture file expected (try --help)");
    }
    *capture = argv[optind];
}

/* Fills 'pkt' for the packet with header 'h' and bytes at 'data', read from
 * a pcap opened with nanosecond precision (so 'tv_usec' is nanoseconds). */
static void
packet_init(struct fs_packet *pkt, const struct pcap_pkthdr *h,
            const uint8_t *data, int link_type)
{
    pkt->data = data;
    pkt->caplen = h->caplen;
    /* The API wants len >= caplen; a broken capture may say otherwise. */
    pkt->len = h->len >= h->caplen ? h->len : h->caplen;
    pkt->ts_ns = (uint64_t) h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
    pkt->port = 0;
    pkt->link_type = link_type;
}

static pcap_t *
open_capture(const char *file_name)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap;

    pcap = pcap_open_offline_with_tstamp_precision(
        file_name, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pcap) {
        fatal("%s", errbuf);
    }
    return pcap;
}

/* Appends one packet to 'cap'.  Its 'data' holds the offset into
 * 'cap->data' until capture_load() turns offsets into pointers, since the
 * buffer moves while it grows. */
static void
capture_append(struct capture *cap, const struct pcap_pkthdr *h,
               const uint8_t *bytes)
{
    struct fs_packet *pkt;
    size_t start = (cap->data_len + PKT_ALIGN - 1) & -(size_t) PKT_ALIGN;

    if (start + h->caplen > cap->data_alloc) {
        cap->data_alloc = 2 * cap->data_alloc + h->caplen + PKT_ALIGN;
        cap->data = xrealloc(cap->data, cap->data_alloc);
    }
    if (cap->n_pkts == cap->pkts_alloc) {
        cap->pkts_alloc = 2 * cap->pkts_alloc + 1024;
        cap->pkts = xrealloc(cap->pkts, cap->pkts_alloc * sizeof *cap->pkts);
    }
    memcpy(cap->data + start, bytes, h->caplen);
    cap->data_len = start + h->caplen;

    pkt = &cap->pkts[cap->n_pkts++];
    packet_init(pkt, h, (const uint8_t *) (uintptr_t) start, cap->link_type);
    cap->bytes += h->caplen;
}

static void
capture_load(struct capture *cap, const char *file_name)
{
    struct pcap_pkthdr *h;
    const u_char *bytes;
    pcap_t *pcap;
    size_t i;
    int error;

    memset(cap, 0, sizeof *cap);
    cap->file_name = file_name;

    pcap = open_capture(file_name);
    cap->link_type = pcap_datalink(pcap);

    while ((error = pcap_next_ex(pcap, &h, &bytes)) == 1) {
        capture_append(cap, h, bytes);
    }
    if (error == PCAP_ERROR) {
        fatal("%s: %s", file_name, pcap_geterr(pcap));
    }
    pcap_close(pcap);

    if (!cap->n_pkts) {
        fatal("%s: no packets", file_name);
    }
    for (i = 0; i < cap->n_pkts; i++) {
        cap->pkts[i].data = cap->data + (uintptr_t) cap->pkts[i].data;
    }
}

static void
capture_destroy(struct capture *cap)
{
    free(cap->data);
    free(cap->pkts);
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct fs_inspector *
create_inspector(const struct bench_opts *bo)
{
    FS_INSPECTOR_OPTS(opts,
                      .max_flows = bo->max_flows,
                      .classify_all = bo->classify_all,
                      .protos_file = bo->protos_file,
                      .categories_file = bo->categories_file,
                      .risky_domains_file = bo->risky_domains_file,
                      .ja3_file = bo->ja3_file,
                      .sha1_file = bo->sha1_file);
    struct fs_inspector *insp;
    int error;

    error = fs_inspector_create(&opts, &insp);
    if (error) {
        fatal("cannot create an inspector: %s", strerror(-error));
    }
    if (bo->policy_file) {
        char err[256] = "";

        error = fs_inspector_load_policy(insp, bo->policy_file, NULL,
                                         err, sizeof err);
        if (error) {
            fatal("%s", err[0] ? err : strerror(-error));
        }
    }
    return insp;
}

/* Runs the packets of 'cap', held in memory, through 'insp' in bursts.
 * Returns the number of packets to pass. */
static unsigned int
process_memory(struct fs_inspector *insp, const struct capture *cap)
{
    uint8_t actions[BURST];
    unsigned int passed = 0;
    size_t i;

    for (i = 0; i < cap->n_pkts; i += BURST) {
        size_t n = cap->n_pkts - i < BURST ? cap->n_pkts - i : BURST;

        passed += fs_inspector_process_burst(insp, &cap->pkts[i], n,
                                             actions);
    }
    return passed;
}

/* Reads the packets of 'pcap' and runs each through 'insp' as it is read,
 * one at a time, as ndpiReader does.  Returns the number to pass. */
static unsigned int
process_stream(struct fs_inspector *insp, pcap_t *pcap, int link_type)
{
    unsigned int passed = 0;
    struct pcap_pkthdr *h;
    const u_char *bytes;
    struct fs_packet pkt;

    while (pcap_next_ex(pcap, &h, &bytes) == 1) {
        packet_init(&pkt, h, bytes, link_type);
        passed += fs_inspector_process(insp, &pkt) == FS_PKT_PASS;
    }
    return passed;
}

/* Runs every packet of 'cap' through a fresh inspector; only the packet
 * loop is timed. */
static void
run_once(const struct capture *cap, const struct bench_opts *bo,
         struct rep_result *res)
{
    struct fs_inspector *insp = create_inspector(bo);
    pcap_t *pcap = bo->stream ? open_capture(cap->file_name) : NULL;
    double start;
    int c;

    start = now_seconds();
    res->passed = (pcap
                   ? process_stream(insp, pcap, cap->link_type)
                   : process_memory(insp, cap));
    res->seconds = now_seconds() - start;
    if (pcap) {
        pcap_close(pcap);
    }

    res->stats.sz = sizeof res->stats;
    fs_inspector_get_stats(insp, &res->stats);
    for (c = 0; c < FS_N_COUNTERS; c++) {
        res->counters[c] = fs_inspector_counter(insp, c);
    }
    fs_inspector_destroy(insp);
}

static const char *
link_type_name(int link_type)
{
    const char *name = pcap_datalink_val_to_name(link_type);

    return name ? name : "unknown";
}

/* Prints 's' as a JSON string. */
static void
json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = *s;

        if (ch == '"' || ch == '\\') {
            printf("\\%c", ch);
        } else if (ch < 0x20) {
            printf("\\u%04x", ch);
        } else {
            putchar(ch);
        }
    }
    putchar('"');
}

struct summary {
    unsigned int reps;
    double seconds;             /* Sum over the timed runs. */
    double best_seconds;        /* Fastest run. */
    double pps;                 /* Over all timed runs. */
    double best_pps;
    double ns_per_packet;
    double gbps;                /* Captured bytes, all runs. */
    uint64_t peak_per_flow;     /* memory_peak / flows created. */
};

static void
print_text(const struct capture *cap, const struct bench_opts *bo,
           const struct summary *s, const struct rep_result *last)
{
    const struct fs_inspector_stats *st = &last->stats;
    const uint64_t *ctr = last->counters;
    int c;

    printf("capture:      %s\n", cap->file_name);
    printf("packets:      %zu (%" PRIu64 " bytes, link type %s)\n",
           cap->n_pkts, cap->bytes, link_type_name(cap->link_type));
    printf("inspector:    %s (nDPI %s)%s%s\n", fs_inspector_version(),
           fs_inspector_ndpi_version(),
           bo->classify_all ? ", every flow classified" : "",
           bo->policy_file ? ", policy loaded" : "");
    if (bo->stream) {
        printf("runs:         %u timed, read from the file one packet at "
               "a time, %.3f s in all\n", s->reps, s->seconds);
    } else {
        printf("runs:         %u timed, from memory in bursts of %d, "
               "%.3f s in all\n", s->reps, BURST, s->seconds);
    }
    printf("throughput:   %.1f Kpps, %.2f Gbit/s (best run %.1f Kpps)\n",
           s->pps / 1e3, s->gbps, s->best_pps / 1e3);
    printf("per packet:   %.1f ns\n", s->ns_per_packet);
    printf("verdicts:     %u of %zu packets passed; %" PRIu64
           " handed to nDPI\n", last->passed, cap->n_pkts,
           ctr[FS_CTR_PACKETS_INSPECTED]);
    printf("flows:        %" PRIu64 " created, %" PRIu64 " decided, %"
           PRIu64 " given up; %u live (%u classifying) at the end\n",
           ctr[FS_CTR_FLOWS_CREATED], ctr[FS_CTR_FLOWS_DECIDED],
           ctr[FS_CTR_FLOWS_GIVEN_UP], st->flows, st->flows_classifying);
    printf("bytes/flow:   %u per flow, +%u while classifying\n",
           st->bytes_per_flow, st->bytes_per_classifying);
    printf("memory:       peak %" PRIu64 " bytes for max_flows %u (%" PRIu64
           " per flow created), %" PRIu64 " at the end\n",
           st->memory_peak, st->max_flows, s->peak_per_flow, st->memory);
    if (bo->counters) {
        printf("counters (last run):\n");
        for (c = 0; c < FS_N_COUNTERS; c++) {
            if (ctr[c]) {
                printf("  %-22s %" PRIu64 "\n", fs_counter_name(c), ctr[c]);
            }
        }
    }
}

static void
print_json(const struct capture *cap, const struct bench_opts *bo,
           const struct summary *s, const struct rep_result *last)
{
    const struct fs_inspector_stats *st = &last->stats;
    const uint64_t *ctr = last->counters;
    int c;

    printf("{\"capture\": ");
    json_string(cap->file_name);
    printf(", \"packets\": %zu, \"bytes\": %" PRIu64 ", \"link_type\": ",
           cap->n_pkts, cap->bytes);
    json_string(link_type_name(cap->link_type));
    printf(", \"version\": ");
    json_string(fs_inspector_version());
    printf(", \"ndpi_version\": ");
    json_string(fs_inspector_ndpi_version());
    printf(", \"classify_all\": %s, \"policy\": ",
           bo->classify_all ? "true" : "false");
    if (bo->policy_file) {
        json_string(bo->policy_file);
    } else {
        printf("null");
    }
    printf(", \"stream\": %s", bo->stream ? "true" : "false");
    printf(", \"burst\": %d, \"runs\": %u, \"seconds\": %.6f"
           ", \"best_seconds\": %.6f, \"pps\": %.0f, \"best_pps\": %.0f"
           ", \"ns_per_packet\": %.2f, \"gbps\": %.3f, \"passed\": %u",
           bo->stream ? 1 : BURST, s->reps, s->seconds, s->best_seconds,
           s->pps, s->best_pps, s->ns_per_packet, s->gbps, last->passed);
    printf(", \"flows_created\": %" PRIu64 ", \"flows\": %u"
           ", \"flows_classifying\": %u, \"max_flows\": %u"
           ", \"bytes_per_flow\": %u, \"bytes_per_classifying\": %u"
           ", \"memory\": %" PRIu64 ", \"memory_peak\": %" PRIu64
           ", \"memory_peak_per_flow\": %" PRIu64,
           ctr[FS_CTR_FLOWS_CREATED], st->flows, st->flows_classifying,
           st->max_flows, st->bytes_per_flow, st->bytes_per_classifying,
           st->memory, st->memory_peak, s->peak_per_flow);
    printf(", \"counters\": {");
    for (c = 0; c < FS_N_COUNTERS; c++) {
        printf("%s\"%s\": %" PRIu64, c ? ", " : "", fs_counter_name(c),
               ctr[c]);
    }
    printf("}}\n");
}

int
main(int argc, char *argv[])
{
    struct bench_opts bo = { .seconds = 2.0, .classify_all = true };
    struct rep_result res;
    struct summary s;
    struct capture cap;
    const char *file_name;
    unsigned int i;

    parse_options(argc, argv, &bo, &file_name);
    capture_load(&cap, file_name);

    /* Warm-up, which also sizes the run when -r is not given. */
    run_once(&cap, &bo, &res);
    if (!bo.repeat) {
        double r = bo.seconds / (res.seconds > 1e-6 ? res.seconds : 1e-6);

        bo.repeat = r < 1 ? 1 : r > 1000000 ? 1000000 : (unsigned int) r;
    }

    memset(&s, 0, sizeof s);
    s.reps = bo.repeat;
    for (i = 0; i < bo.repeat; i++) {
        run_once(&cap, &bo, &res);
        s.seconds += res.seconds;
        if (!i || res.seconds < s.best_seconds) {
            s.best_seconds = res.seconds;
        }
    }
    s.pps = (double) cap.n_pkts * s.reps / s.seconds;
    s.best_pps = cap.n_pkts / s.best_seconds;
    s.ns_per_packet = 1e9 / s.pps;
    s.gbps = cap.bytes * 8.0 * s.reps / s.seconds / 1e9;
    s.peak_per_flow = (res.counters[FS_CTR_FLOWS_CREATED]
                       ? res.stats.memory_peak
                         / res.counters[FS_CTR_FLOWS_CREATED]
                       : 0);

    if (bo.json) {
        print_json(&cap, &bo, &s, &res);
    } else {
        print_text(&cap, &bo, &s, &res);
    }
    capture_destroy(&cap);
    return EXIT_SUCCESS;
}
