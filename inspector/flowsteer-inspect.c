/*
 * flowsteer-inspect: classify and judge the flows of captures offline.
 *
 * Reads pcap and pcapng files with libpcap, runs every packet through one
 * inspector, and at the end of each capture prints one line (or JSON
 * object) per flow, then a summary.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowsteer/inspector.h"

#define PROGRAM "flowsteer-inspect"

struct options {
    const char *policy;
    int json;
    int quiet;
    uint32_t port;
    const char *profile;
};

/* One printed flow, kept until the end of its capture to sort by time. */
struct flow_line {
    uint64_t first_seen_ns;
    char *text;
};

struct output {
    const struct options *opts;
    const char *capture;
    struct flow_line *lines;
    size_t n_lines, cap_lines;
    int error;                  /* Out of memory while collecting. */
};

static void
usage(void)
{
    printf("%s: classify and judge the flows of captures\n"
           "usage: %s [OPTIONS] CAPTURE...\n"
           "\n"
           "Reads pcap or pcapng CAPTUREs, inspects every flow with nDPI,\n"
           "judges it against a policy, and prints one line per flow and a\n"
           "summary (on stderr; with --json, a last object on stdout).\n"
           "\n"
           "Policy and nDPI configuration:\n"
           "  -p, --policy=FILE        judge flows by FILE (default: allow"
           " all)\n"
           "      --port=N             ingress port number of the packets"
           " (default 0)\n"
           "      --profile=NAME       profile of that port, for policy"
           " rules\n"
           "      --protos=FILE        nDPI protocols file\n"
           "      --categories=FILE    nDPI categories file\n"
           "      --risky-domains=FILE nDPI risky domains file\n"
           "      --ja3=FILE           nDPI malicious JA3 fingerprints\n"
           "      --sha1=FILE          nDPI malicious certificate SHA1s\n"
           "Flow table:\n"
           "      --max-flows=N        capacity (default 65536)\n"
           "      --max-memory=BYTES   cap on flow state (default: none)\n"
           "      --table-full=POLICY  evict (default), bypass or drop\n"
           "      --idle-timeout=SECS  for every protocol; 0: never"
           " (default:\n"
           "                           TCP 300, UDP 60, other 30)\n"
           "      --tunnels            decode GTP-U, TZSP and CAPWAP"
           " tunnels\n"
           "      --exception=SPEC     what to do with packets that cannot"
           " be judged:\n"
           "                           ACTION or CLASS=ACTION, comma-"
           "separated;\n"
           "                           drop, alert or allow (default:"
           " allow)\n"
           "Output:\n"
           "  -j, --json               one JSON object per line\n"
           "  -q, --quiet              no per-flow lines, summary only\n"
           "  -h, --help               show this help and exit\n"
           "  -V, --version            show versions and exit\n"
           "\n"
           "Exit status: 0 on success, 1 if a capture could not be read or\n"
           "the policy is bad, 2 for bad usage.\n", PROGRAM, PROGRAM);
}

static void fatal_usage(const char *format, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal_usage(const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", PROGRAM);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fprintf(stderr, "\n(use --help for help)\n");
    exit(2);
}

static uint64_t
parse_number(const char *s, const char *what, uint64_t max)
{
    unsigned long long n;
    char *end;

    errno = 0;
    n = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || n > max) {
        fatal_usage("%s: bad value '%s'", what, s);
    }
    return n;
}

/* A growable string. */
struct buf {
    char *s;
    size_t len, cap;
    int error;
};

static void
buf_printf(struct buf *b, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *format, ...)
{
    va_list args;
    int n;

    for (;;) {
        size_t avail = b->cap - b->len;

        va_start(args, format);
        n = vsnprintf(b->s ? b->s + b->len : NULL, avail, format, args);
        va_end(args);
        if (n < 0) {
            b->error = 1;
            return;
        }
        if ((size_t) n < avail) {
            b->len += n;
            return;
        }
        char *s = realloc(b->s, b->cap + n + 256);
        if (!s) {
            b->error = 1;
            return;
        }
        b->s = s;
        b->cap += n + 256;
    }
}

/* Appends 's' as a JSON string.  Bytes outside printable ASCII are
 * escaped as \u00XX, so any bytes from a packet give valid JSON. */
static void
buf_json_string(struct buf *b, const char *s)
{
    buf_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = *s;

        if (c == '"' || c == '\\') {
            buf_printf(b, "\\%c", c);
        } else if (c < 0x20 || c >= 0x7f) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_printf(b, "%c", c);
        }
    }
    buf_printf(b, "\"");
}

/* Appends 's' for text output: non-printable bytes as \xHH. */
static void
buf_text_string(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = *s;

        if (c < 0x20 || c >= 0x7f || c == '\\') {
            buf_printf(b, "\\x%02x", c);
        } else {
            buf_printf(b, "%c", c);
        }
    }
}

static const char *
actions_string(const struct fs_verdict *v, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
#define ADD(...) \
    n += snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__)
    if (!v->actions) {
        ADD("none");
    }
    if (v->actions & FS_ACT_DROP) {
        ADD("%sdrop", n ? "," : "");
    } else if (v->actions & FS_ACT_ALLOW
               && !(v->actions & (FS_ACT_MIRROR | FS_ACT_METER
                                  | FS_ACT_LABEL))) {
        ADD("%sallow", n ? "," : "");
    }
    if (v->actions & FS_ACT_MIRROR) {
        ADD("%smirror:%s", n ? "," : "", v->mirror_port);
    }
    if (v->actions & FS_ACT_METER) {
        ADD("%smeter:%" PRIu32, n ? "," : "", v->meter_kbps);
    }
    if (v->actions & FS_ACT_LABEL) {
        ADD("%slabel", n ? "," : "");
    }
    if (v->actions & FS_ACT_LOG) {
        ADD("%slog", n ? "," : "");
    }
#undef ADD
    return buf;
}

static void
format_json(struct buf *b, const char *capture,
            const struct fs_flow_info *f)
{
    char src[64], dst[64], l4[8], actions[64];
    unsigned int bit;
    int first = 1;

    buf_printf(b, "{\"capture\":");
    buf_json_string(b, capture);
    buf_printf(b, ",\"l4\":\"%s\",\"src_ip\":\"%s\",\"src_port\":%u,"
               "\"dst_ip\":\"%s\",\"dst_port\":%u",
               fs_l4_name(f->key.l4_proto, l4, sizeof l4),
               fs_ip_format(f->key.src_ip, src, sizeof src),
               f->key.src_port,
               fs_ip_format(f->key.dst_ip, dst, sizeof dst),
               f->key.dst_port);
    if (f->key.vlan) {
        buf_printf(b, ",\"vlan\":%u", f->key.vlan);
    }
    buf_printf(b, ",\"port\":%" PRIu32, f->port);
    if (f->profile) {
        buf_printf(b, ",\"profile\":");
        buf_json_string(b, f->profile);
    }
    buf_printf(b, ",\"app\":");
    buf_json_string(b, f->app);
    buf_printf(b, ",\"app_id\":%u,\"master_id\":%u,\"category\":",
               f->app_id, f->master_id);
    buf_json_string(b, f->category);
    buf_printf(b, ",\"risks\":[");
    for (bit = 0; bit < 64; bit++) {
        if (f->risks & (UINT64_C(1) << bit)) {
            const char *name = fs_risk_name(bit);
            char unknown[16];

            if (!name) {
                snprintf(unknown, sizeof unknown, "risk_%u", bit);
                name = unknown;
            }
            buf_printf(b, "%s\"%s\"", first ? "" : ",", name);
            first = 0;
        }
    }
    buf_printf(b, "],\"host\":");
    buf_json_string(b, f->host);
    buf_printf(b, ",\"ja3\":\"%s\",\"guessed\":%s,\"state\":\"%s\","
               "\"verdict\":\"%s\",\"actions\":\"%s\",\"rule\":",
               f->ja3, f->guessed ? "true" : "false",
               f->state == FS_FLOW_DECIDED ? "decided" : "classifying",
               f->verdict.actions & FS_ACT_DROP ? "drop"
               : f->verdict.actions ? "allow" : "none",
               actions_string(&f->verdict, actions, sizeof actions));
    buf_json_string(b, f->rule);
    buf_printf(b, ",\"priority\":%d,\"src2dst_packets\":%" PRIu64
               ",\"src2dst_bytes\":%" PRIu64 ",\"dst2src_packets\":%" PRIu64
               ",\"dst2src_bytes\":%" PRIu64 ",\"packets_inspected\":%"
               PRIu32 ",\"first_seen\":%.6f,\"last_seen\":%.6f}\n",
               f->rule_priority, f->packets[0], f->bytes[0], f->packets[1],
               f->bytes[1], f->packets_inspected, f->first_seen_ns / 1e9,
               f->last_seen_ns / 1e9);
}

static void
format_text(struct buf *b, const struct fs_flow_info *f)
{
    char src[64], dst[64], l4[8], actions[64];
    int v6 = f->key.ip_version == 6;
    unsigned int bit;
    int first = 1;

    buf_printf(b, "%s %s%s%s:%u <-> %s%s%s:%u",
               fs_l4_name(f->key.l4_proto, l4, sizeof l4), v6 ? "[" : "",
               fs_ip_format(f->key.src_ip, src, sizeof src), v6 ? "]" : "",
               f->key.src_port, v6 ? "[" : "",
               fs_ip_format(f->key.dst_ip, dst, sizeof dst), v6 ? "]" : "",
               f->key.dst_port);
    if (f->key.vlan) {
        buf_printf(b, " [vlan %u]", f->key.vlan);
    }
    buf_printf(b, " [app %s%s] [cat %s]", f->app,
               f->guessed ? " (guessed)" : "", f->category);
    if (*f->host) {
        buf_printf(b, " [host ");
        buf_text_string(b, f->host);
        buf_printf(b, "]");
    }
    if (*f->ja3) {
        buf_printf(b, " [ja3 %s]", f->ja3);
    }
    for (bit = 0; bit < 64; bit++) {
        if (f->risks & (UINT64_C(1) << bit)) {
            const char *name = fs_risk_name(bit);

            buf_printf(b, "%s%s", first ? " [risks " : ",",
                       name ? name : "?");
            first = 0;
        }
    }
    if (!first) {
        buf_printf(b, "]");
    }
    buf_printf(b, " [verdict %s rule %s] [%" PRIu64 "/%" PRIu64 " pkts %"
               PRIu64 "/%" PRIu64 " bytes, %" PRIu32 " inspected]\n",
               actions_string(&f->verdict, actions, sizeof actions),
               f->rule, f->packets[0], f->packets[1], f->bytes[0],
               f->bytes[1], f->packets_inspected);
}

/* Keeps a line for flow 'f', which is ending. */
static void
collect_flow(struct output *out, const struct fs_flow_info *f)
{
    struct buf b = { NULL, 0, 0, 0 };

    if (out->opts->quiet || out->error) {
        return;
    }
    if (out->n_lines == out->cap_lines) {
        size_t cap = out->cap_lines ? out->cap_lines * 2 : 1024;
        struct flow_line *lines = realloc(out->lines, cap * sizeof *lines);

        if (!lines) {
            out->error = 1;
            return;
        }
        out->lines = lines;
        out->cap_lines = cap;
    }
    if (out->opts->json) {
        format_json(&b, out->capture, f);
    } else {
        format_text(&b, f);
    }
    if (b.error) {
        free(b.s);
        out->error = 1;
        return;
    }
    out->lines[out->n_lines].first_seen_ns = f->first_seen_ns;
    out->lines[out->n_lines].text = b.s;
    out->n_lines++;
}

/* Inspector events: every flow that ends (expired, evicted, or flushed at
 * the end of a capture) is printed. */
static void
on_event(void *aux, enum fs_event_type type, const struct fs_flow_info *f,
         const struct fs_verdict *old)
{
    if (type == FS_EVENT_FLOW_END) {
        collect_flow(aux, f);
    }
}

static int
compare_lines(const void *a_, const void *b_)
{
    const struct flow_line *a = a_, *b = b_;

    return (a->first_seen_ns > b->first_seen_ns)
           - (a->first_seen_ns < b->first_seen_ns);
}

/* Ends the flows still in 'insp' and prints every flow of the capture in
 * the order they started.  Returns 0 or -ENOMEM. */
static int
print_flows(struct fs_inspector *insp, struct output *out)
{
    int error;
    size_t i;

    fs_inspector_flush(insp);
    qsort(out->lines, out->n_lines, sizeof *out->lines, compare_lines);
    for (i = 0; i < out->n_lines; i++) {
        fputs(out->lines[i].text, stdout);
        free(out->lines[i].text);
    }
    free(out->lines);
    error = out->error ? -ENOMEM : 0;
    out->lines = NULL;
    out->n_lines = out->cap_lines = 0;
    out->error = 0;
    return error;
}

/* Runs capture 'path' through 'insp'.  Returns 0, or -1 after printing why
 * the capture could not be read. */
static int
inspect_capture(struct fs_inspector *insp, struct output *out,
                const char *path)
{
    const struct options *opts = out->opts;
    char errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int link_type, ret;
    pcap_t *pcap;

    pcap = pcap_open_offline_with_tstamp_precision(
        path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pcap) {
        fprintf(stderr, "%s: %s: %s\n", PROGRAM, path, errbuf);
        return -1;
    }
    link_type = fs_link_type_from_dlt(pcap_datalink(pcap));
    if (link_type < 0) {
        const char *name = pcap_datalink_val_to_name(pcap_datalink(pcap));

        fprintf(stderr, "%s: %s: unsupported link type %s (%d)\n", PROGRAM,
                path, name ? name : "unknown", pcap_datalink(pcap));
        pcap_close(pcap);
        return -1;
    }
    while ((ret = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        struct fs_packet pkt = {
            .data = data,
            .caplen = hdr->caplen,
            .len = hdr->len,
            .ts_ns = ((uint64_t) hdr->ts.tv_sec * 1000000000
                      + (uint64_t) hdr->ts.tv_usec),
            .port = opts->port,
            .link_type = link_type,
        };

        fs_inspector_process(insp, &pkt);
    }
    if (ret == -1) {
        fprintf(stderr, "%s: %s: %s (flows so far are reported)\n", PROGRAM,
                path, pcap_geterr(pcap));
    }
    pcap_close(pcap);
    out->capture = path;
    if (print_flows(insp, out)) {
        fprintf(stderr, "%s: out of memory\n", PROGRAM);
        return -1;
    }
    return ret == -1 ? -1 : 0;
}

static void
print_summary(const struct fs_inspector *insp, const struct options *opts,
              int n_files, double seconds, uint64_t n_flows)
{
    uint64_t packets = fs_inspector_counter(insp, FS_CTR_PACKETS);
    uint64_t bytes = fs_inspector_counter(insp, FS_CTR_BYTES);
    FS_INSPECTOR_STATS(st);
    double pps = seconds > 0 ? packets / seconds : 0;
    double mbps = seconds > 0 ? bytes * 8 / seconds / 1e6 : 0;
    int c;

    fs_inspector_get_stats(insp, &st);
    if (opts->json) {
        printf("{\"summary\":true,\"files\":%d,\"packets\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"flows\":%" PRIu64
               ",\"seconds\":%.6f,\"pps\":%.0f,\"mbps\":%.3f,"
               "\"memory\":{\"bytes_per_flow\":%" PRIu32
               ",\"bytes_per_classifying_flow\":%" PRIu32
               ",\"peak\":%" PRIu64 "},\"counters\":{",
               n_files, packets, bytes, n_flows, seconds, pps, mbps,
               st.bytes_per_flow, st.bytes_per_flow
               + st.bytes_per_classifying, st.memory_peak);
        for (c = 0; c < FS_N_COUNTERS; c++) {
            printf("%s\"%s\":%" PRIu64, c ? "," : "", fs_counter_name(c),
                   fs_inspector_counter(insp, c));
        }
        printf("}}\n");
        return;
    }
    fprintf(stderr, "%s: %d capture%s, %" PRIu64 " packets, %" PRIu64
            " flows in %.3f s (%.1f Kpps, %.1f Mbit/s)\n", PROGRAM, n_files,
            n_files == 1 ? "" : "s", packets, n_flows, seconds, pps / 1e3,
            mbps);
    fprintf(stderr, "memory: %" PRIu32 " bytes per decided flow, %" PRIu32
            " per flow in classification (with nDPI's state), peak %.1f"
            " MB\n", st.bytes_per_flow,
            st.bytes_per_flow + st.bytes_per_classifying,
            st.memory_peak / 1e6);
    fprintf(stderr, "counters:");
    for (c = 0; c < FS_N_COUNTERS; c++) {
        uint64_t v = fs_inspector_counter(insp, c);

        if (v) {
            fprintf(stderr, " %s=%" PRIu64, fs_counter_name(c), v);
        }
    }
    fprintf(stderr, "\n");
}

static void
log_to_stderr(void *aux, enum fs_log_level level, const char *msg)
{
    static const char *const names[] = { "error", "warning", "info",
                                         "debug" };

    fprintf(stderr, "%s: %s: %s\n", PROGRAM,
            (unsigned int) level < 4 ? names[level] : "log", msg);
}

int
main(int argc, char *argv[])
{
    enum {
        OPT_PROTOS = UCHAR_MAX + 1, OPT_CATEGORIES, OPT_RISKY, OPT_JA3,
        OPT_SHA1, OPT_MAX_FLOWS, OPT_MAX_MEMORY, OPT_TABLE_FULL,
        OPT_IDLE, OPT_TUNNELS, OPT_PORT, OPT_PROFILE, OPT_EXCEPTION,
    };
    static const struct option long_options[] = {
        { "policy", required_argument, NULL, 'p' },
        { "protos", required_argument, NULL, OPT_PROTOS },
        { "categories", required_argument, NULL, OPT_CATEGORIES },
        { "risky-domains", required_argument, NULL, OPT_RISKY },
        { "ja3", required_argument, NULL, OPT_JA3 },
        { "sha1", required_argument, NULL, OPT_SHA1 },
        { "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
        { "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
        { "table-full", required_argument, NULL, OPT_TABLE_FULL },
        { "idle-timeout", required_argument, NULL, OPT_IDLE },
        { "tunnels", no_argument, NULL, OPT_TUNNELS },
        { "port", required_argument, NULL, OPT_PORT },
        { "profile", required_argument, NULL, OPT_PROFILE },
        { "exception", required_argument, NULL, OPT_EXCEPTION },
        { "json", no_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct options opts = { NULL, 0, 0, 0, NULL };
    struct output out = { .opts = &opts };
    FS_INSPECTOR_OPTS(iopts, .classify_all = 1, .log_cb = log_to_stderr,
                      .event_cb = on_event, .event_aux = &out);
    struct fs_inspector *insp;
    struct timespec t0, t1;
    uint8_t exceptions[FS_N_EXCEPTIONS];
    uint64_t n_flows;
    int c, i, error, status = 0;

    /* Offline, nothing is enforced: packets that cannot be judged go on to
     * their flows where they have one, as ndpiReader sees them. */
    memset(exceptions, FS_EXC_ACTION_ALLOW, sizeof exceptions);

    while ((c = getopt_long(argc, argv, "p:jqhV", long_options,
                            NULL)) != -1) {
        switch (c) {
        case 'p':
            opts.policy = optarg;
            break;
        case OPT_PROTOS:
            iopts.protos_file = optarg;
            break;
        case OPT_CATEGORIES:
            iopts.categories_file = optarg;
            break;
        case OPT_RISKY:
            iopts.risky_domains_file = optarg;
            break;
        case OPT_JA3:
            iopts.ja3_file = optarg;
            break;
        case OPT_SHA1:
            iopts.sha1_file = optarg;
            break;
        case OPT_MAX_FLOWS:
            iopts.max_flows = parse_number(optarg, "--max-flows", 1 << 28);
            if (!iopts.max_flows) {
                fatal_usage("--max-flows: must be at least 1");
            }
            break;
        case OPT_MAX_MEMORY:
            iopts.max_memory = parse_number(optarg, "--max-memory",
                                            UINT64_MAX);
            break;
        case OPT_TABLE_FULL:
            if (!strcmp(optarg, "evict")) {
                iopts.table_full = FS_FULL_EVICT_IDLE;
            } else if (!strcmp(optarg, "bypass")) {
                iopts.table_full = FS_FULL_BYPASS;
            } else if (!strcmp(optarg, "drop")) {
                iopts.table_full = FS_FULL_DROP_NEW;
            } else {
                fatal_usage("--table-full: '%s' is not evict, bypass or "
                            "drop", optarg);
            }
            break;
        case OPT_IDLE: {
            uint64_t s = parse_number(optarg, "--idle-timeout",
                                      UINT32_MAX / 1000 - 1);
            uint32_t ms = s ? s * 1000 : UINT32_MAX;

            iopts.idle_timeout_tcp_ms = ms;
            iopts.idle_timeout_udp_ms = ms;
            iopts.idle_timeout_other_ms = ms;
            break;
        }
        case OPT_TUNNELS:
            iopts.decode_tunnels = 1;
            break;
        case OPT_PORT:
            opts.port = parse_number(optarg, "--port", UINT32_MAX);
            break;
        case OPT_PROFILE:
            opts.profile = optarg;
            break;
        case OPT_EXCEPTION: {
            char err[128];

            if (fs_exception_parse(optarg, exceptions, err, sizeof err)) {
                fatal_usage("--exception: %s", err);
            }
            break;
        }
        case 'j':
            opts.json = 1;
            break;
        case 'q':
            opts.quiet = 1;
            break;
        case 'h':
            usage();
            return 0;
        case 'V':
            printf("%s (flowsteer) %s, libflowsteer-inspector %s, nDPI %s\n",
                   PROGRAM, PACKAGE_VERSION, fs_inspector_version(),
                   fs_inspector_ndpi_version());
            return 0;
        default:
            fatal_usage("bad option");
        }
    }
    if (optind >= argc) {
        fatal_usage("no capture given");
    }

    error = fs_inspector_create(&iopts, &insp);
    if (error) {
        fprintf(stderr, "%s: cannot create the inspector: %s\n", PROGRAM,
                strerror(-error));
        return 1;
    }
    for (i = 0; i < FS_N_EXCEPTIONS; i++) {
        fs_inspector_set_exception(insp, i, exceptions[i]);
    }
    if (opts.profile) {
        fs_inspector_set_port(insp, opts.port, NULL, opts.profile, NULL);
    }
    if (opts.policy) {
        char err[512];

        error = fs_inspector_load_policy(insp, opts.policy, NULL, err,
                                         sizeof err);
        if (error) {
            fprintf(stderr, "%s: %s\n", PROGRAM, err);
            fs_inspector_destroy(insp);
            return 1;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = optind; i < argc; i++) {
        out.capture = argv[i];
        if (inspect_capture(insp, &out, argv[i])) {
            status = 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    n_flows = fs_inspector_counter(insp, FS_CTR_FLOWS_CREATED);
    print_summary(insp, &opts, argc - optind,
                  (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
                  n_flows);
    fs_inspector_destroy(insp);
    return status;
}
