/*
 * flowrules-bench: how fast the flowrules library installs per-flow rules
 * into a real Open vSwitch bridge, and how long one flow waits for them.
 *
 *   --install N TARGET
 *       Connects, waits for the (empty) reconciliation, then calls
 *       flowrules_set() for N distinct TCP/IPv4 flows and runs the loop
 *       until flowrules_synced().  Times that span (CLOCK_MONOTONIC) and
 *       prints flows/s, rules/s and flowsteer's memory per installed rule,
 *       both as flowrules_get_stats() counts it and as the growth of this
 *       process's VmRSS.  With --ofctl-file FILE, first writes the same
 *       rules (both directions) in 'ovs-ofctl add-flows' syntax, so that
 *       'ovs-ofctl --bundle add-flows' can be timed on them.
 *
 *   --latency RATE SECONDS TARGET
 *       Calls flowrules_set() for RATE new flows per second, in small
 *       batches as time passes, for SECONDS, and measures each flow's
 *       latency from its flowrules_set() to the switch's confirmation
 *       (flowrules_options.installed_cb).  Prints p50, p99 and max in ms
 *       and the rates achieved.
 *
 * Output: one line of KEY=VALUE words per run, for people and scripts.
 * Exit status: 0, or 1 if a rule failed or the switch did not confirm
 * everything in time.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command-line.h"
#include "flowrules.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flowrules_bench);

/* Flows are numbered from 1; flow i's source is 10.0.0.0 + i, so that
 * many are distinct. */
#define MAX_FLOWS 16000000

#define DST_IP 0xac100001       /* 172.16.0.1 */
#define DST_PORT 443

enum mode {
    MODE_NONE,
    MODE_INSTALL,
    MODE_LATENCY,
};

struct bench {
    struct flowrules_options opts;
    struct flowrules *fr;
    enum mode mode;
    uint64_t n_flows;           /* --install N. */
    uint64_t rate;              /* --latency RATE. */
    double seconds;             /* --latency ... SECONDS. */
    const char *ofctl_file;
    int timeout_s;              /* Longest wait for the switch. */

    /* Failures reported by the library. */
    uint64_t failed;

    /* --latency: per flow (index id - 1), when it was set (0 once
     * confirmed) and its latency (0 until confirmed). */
    uint64_t *set_ns;
    uint64_t *latency_ns;
    uint64_t n_confirmed;
    uint64_t last_confirm_ns;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns this process's resident set size in bytes, or 0 if unknown. */
static uint64_t
rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    unsigned long long kb = 0;
    char line[256];

    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

static void
put_ipv4(uint8_t ip[16], uint32_t addr)
{
    memset(ip, 0, 10);
    ip[10] = ip[11] = 0xff;
    ip[12] = addr >> 24;
    ip[13] = addr >> 16;
    ip[14] = addr >> 8;
    ip[15] = addr;
}

/* Fills 'r' with flow 'id''s rule: TCP 10.0.0.0+id:1024+(id%64000) ->
 * 172.16.0.1:443, untagged, any in_port, allow. */
static void
bench_rule(uint64_t id, struct flowrules_rule *r)
{
    memset(r, 0, sizeof *r);
    put_ipv4(r->key.src_ip, 0x0a000000 + (uint32_t) id);
    put_ipv4(r->key.dst_ip, DST_IP);
    r->key.src_port = 1024 + id % 64000;
    r->key.dst_port = DST_PORT;
    r->key.l4_proto = 6;
    r->key.ip_version = 4;
    r->verdict.actions = FS_ACT_ALLOW;
}

static void
format_ipv4(const uint8_t ip[16], char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
}

/* Writes the rules of flows 1...n as flowrules builds them (see
 * fr_build_match() and fr_encode_flow_mod()), one line per direction, in
 * 'ovs-ofctl add-flows' syntax.  Returns 0 or an errno. */
static int
write_ofctl_file(const struct bench *b, const char *name, uint64_t n)
{
    const struct flowrules_options *o = &b->opts;
    char actions[32], hard[32];
    const char *flags = o->exclude_syn ? "tcp_flags=-syn," : "";
    FILE *f = fopen(name, "w");
    uint64_t id;
    int error;

    if (!f) {
        return errno;
    }
    if (o->next_table >= 0) {
        snprintf(actions, sizeof actions, "resubmit(,%d)", o->next_table);
    } else {
        snprintf(actions, sizeof actions, "NORMAL");
    }
    hard[0] = '\0';
    if (o->hard_timeout) {
        snprintf(hard, sizeof hard, "hard_timeout=%u,", o->hard_timeout);
    }
    for (id = 1; id <= n; id++) {
        uint64_t cookie = (uint64_t) o->cookie_ns << 48 | id;
        struct flowrules_rule r;
        char src[16], dst[16];
        int dir;

        bench_rule(id, &r);
        format_ipv4(r.key.src_ip, src);
        format_ipv4(r.key.dst_ip, dst);
        for (dir = 0; dir < 2; dir++) {
            fprintf(f, "table=%u,priority=%u,cookie=%#"PRIx64","
                    "idle_timeout=%u,%ssend_flow_rem,tcp,"
                    "vlan_tci=0x0000/0x1fff,nw_src=%s,nw_dst=%s,"
                    "tp_src=%u,tp_dst=%u,%sactions=%s\n",
                    o->table, o->priority, cookie,
                    o->poll_idle ? 0 : o->idle_timeout[0], hard,
                    dir ? dst : src, dir ? src : dst,
                    dir ? r.key.dst_port : r.key.src_port,
                    dir ? r.key.src_port : r.key.dst_port, flags, actions);
        }
    }
    error = ferror(f) ? errno : 0;
    if (fclose(f) && !error) {
        error = errno;
    }
    return error;
}

static void
on_error(void *aux, uint64_t flow_id, int error, bool table_full,
         enum flowrules_full_policy policy OVS_UNUSED)
{
    struct bench *b = aux;

    if (!b->failed++) {
        fprintf(stderr, "%s: flow %"PRIu64" failed: error %d%s\n",
                program_name, flow_id, error,
                table_full ? " (table full)" : "");
    }
}

static void
on_installed(void *aux, uint64_t flow_id)
{
    struct bench *b = aux;

    if (b->set_ns && flow_id >= 1 && flow_id <= b->n_flows
        && b->set_ns[flow_id - 1]) {
        uint64_t now = now_ns();

        b->latency_ns[flow_id - 1] = MAX(now - b->set_ns[flow_id - 1], 1);
        b->set_ns[flow_id - 1] = 0;
        b->n_confirmed++;
        b->last_confirm_ns = now;
    }
}

/* Runs the loop until the switch confirmed everything or 'timeout_s'
 * passed.  Returns true if synced. */
static bool
wait_synced(struct bench *b)
{
    long long int deadline = time_msec() + b->timeout_s * 1000LL;

    for (;;) {
        flowrules_run(b->fr);
        if (flowrules_synced(b->fr)) {
            return true;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        flowrules_wait(b->fr);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static int
run_install(struct bench *b)
{
    struct flowrules_stats s;
    uint64_t t0, t1, connect_ns, rss0, rss1;
    uint64_t rules = 2 * b->n_flows;
    double secs;
    uint64_t id;

    if (b->ofctl_file) {
        int error = write_ofctl_file(b, b->ofctl_file, b->n_flows);

        if (error) {
            ovs_fatal(error, "%s: write failed", b->ofctl_file);
        }
    }

    /* Connect and reconcile first: a daemon installs into a switch it is
     * already connected to. */
    t0 = now_ns();
    if (!wait_synced(b)) {
        ovs_fatal(0, "%s: no connection or reconciliation in %d s",
                  b->opts.target, b->timeout_s);
    }
    connect_ns = now_ns() - t0;

    rss0 = rss_bytes();
    t0 = now_ns();
    for (id = 1; id <= b->n_flows; id++) {
        struct flowrules_rule r;
        int error;

        bench_rule(id, &r);
        error = flowrules_set(b->fr, id, &r);
        if (error) {
            ovs_fatal(error, "flowrules_set(%"PRIu64") failed", id);
        }
    }
    if (!wait_synced(b)) {
        fprintf(stderr, "%s: the switch did not confirm every rule in %d s\n",
                program_name, b->timeout_s);
        return EXIT_FAILURE;
    }
    t1 = now_ns();
    rss1 = rss_bytes();

    flowrules_get_stats(b->fr, &s);
    secs = (t1 - t0) / 1e9;
    printf("mode=install flows=%"PRIu64" rules=%"PRIu64" seconds=%.6f "
           "flows_per_s=%.0f rules_per_s=%.0f bytes_per_rule=%.1f "
           "rss_bytes_per_rule=%.1f connect_ms=%.1f bundles=%"PRIu64" "
           "rules_installed=%"PRIu64" failed=%"PRIu64"\n",
           b->n_flows, rules, secs, b->n_flows / secs, rules / secs,
           (double) s.memory / rules,
           rss1 > rss0 ? (double) (rss1 - rss0) / rules : 0.0,
           connect_ns / 1e6, s.bundles_committed, s.rules_installed,
           b->failed);
    return (b->failed || s.rules_installed != rules
            ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int
compare_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_;
    uint64_t b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

/* Copies the latencies of the confirmed flows among 'first'...'last'
 * (ids) into 'out', sorted, and returns how many there are. */
static uint64_t
sorted_latencies(const struct bench *b, uint64_t first, uint64_t last,
                 uint64_t *out)
{
    uint64_t id, n = 0;

    for (id = first; id <= last; id++) {
        if (b->latency_ns[id - 1]) {
            out[n++] = b->latency_ns[id - 1];
        }
    }
    qsort(out, n, sizeof *out, compare_u64);
    return n;
}

/* Returns the 'p'th percentile (0 < p <= 100) of the 'n' sorted values in
 * 'v' (nearest rank), in ms. */
static double
percentile_ms(const uint64_t *v, uint64_t n, double p)
{
    uint64_t rank = (uint64_t) (p / 100.0 * n + 0.999999);

    rank = rank < 1 ? 1 : rank > n ? n : rank;
    return v[rank - 1] / 1e6;
}

static int
run_latency(struct bench *b)
{
    uint64_t total = b->n_flows;
    uint64_t n_set = 0, t0, set_end = 0, deadline_ns;
    struct flowrules_stats s;
    struct ds by_s = DS_EMPTY_INITIALIZER;
    uint64_t *sorted, n, id, first;

    b->set_ns = xcalloc(total, sizeof *b->set_ns);
    b->latency_ns = xcalloc(total, sizeof *b->latency_ns);

    if (!wait_synced(b)) {
        ovs_fatal(0, "%s: no connection or reconciliation in %d s",
                  b->opts.target, b->timeout_s);
    }

    t0 = now_ns();
    deadline_ns = t0 + (uint64_t) ((b->seconds + b->timeout_s) * 1e9);
    for (;;) {
        uint64_t now = now_ns();

        if (n_set < total) {
            /* Every flow whose time has come, by the schedule. */
            uint64_t due = (uint64_t) ((now - t0) / 1e9 * b->rate) + 1;

            due = MIN(due, total);
            while (n_set < due) {
                struct flowrules_rule r;
                int error;

                id = ++n_set;
                bench_rule(id, &r);
                b->set_ns[id - 1] = now_ns();
                error = flowrules_set(b->fr, id, &r);
                if (error) {
                    ovs_fatal(error, "flowrules_set(%"PRIu64") failed", id);
                }
            }
            if (n_set == total) {
                set_end = now_ns();
            }
        }
        flowrules_run(b->fr);
        if (n_set == total && b->n_confirmed + b->failed >= total) {
            break;
        }
        if (now >= deadline_ns) {
            break;
        }
        flowrules_wait(b->fr);
        if (n_set < total) {
            poll_timer_wait(1);
        } else {
            poll_timer_wait(100);
        }
        poll_block();
    }

    flowrules_get_stats(b->fr, &s);
    if (!b->n_confirmed) {
        fprintf(stderr, "%s: no flow confirmed\n", program_name);
        return EXIT_FAILURE;
    }

    /* p99 of the flows set in each second (by schedule), to show how it
     * moves as the switch's table grows. */
    sorted = xmalloc(total * sizeof *sorted);
    for (first = 1; first <= n_set; first += b->rate) {
        n = sorted_latencies(b, first, MIN(first + b->rate - 1, n_set),
                             sorted);
        ds_put_format(&by_s, "%s%.3f", first > 1 ? "," : "",
                      n ? percentile_ms(sorted, n, 99) : 0.0);
    }
    n = sorted_latencies(b, 1, n_set, sorted);
    printf("mode=latency rate=%"PRIu64" seconds=%.1f flows=%"PRIu64" "
           "confirmed=%"PRIu64" failed=%"PRIu64" set_rate=%.0f "
           "confirmed_rate=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "p99_ms_by_s=%s bundles=%"PRIu64"\n",
           b->rate, b->seconds, n_set, n, b->failed,
           set_end > t0 ? n_set / ((set_end - t0) / 1e9) : 0.0,
           n / ((b->last_confirm_ns - t0) / 1e9),
           percentile_ms(sorted, n, 50), percentile_ms(sorted, n, 99),
           sorted[n - 1] / 1e6, ds_cstr(&by_s), s.bundles_committed);
    free(sorted);
    ds_destroy(&by_s);
    if (b->n_confirmed + b->failed < total) {
        fprintf(stderr, "%s: %"PRIu64" flows not confirmed in time\n",
                program_name, total - b->n_confirmed - b->failed);
        return EXIT_FAILURE;
    }
    return b->failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void
usage(void)
{
    printf("%s: time the flowrules library against an Open vSwitch bridge\n"
           "usage: %s [OPTIONS] --install N TARGET\n"
           "       %s [OPTIONS] --latency RATE SECONDS TARGET\n"
           "TARGET is the bridge's OpenFlow endpoint, e.g. "
           "unix:/var/run/openvswitch/br0.mgmt\n"
           "\nOptions:\n"
           "  --install N          install N flows (2N rules), time it\n"
           "  --latency RATE       RATE new flows/s for SECONDS; per-flow "
           "latency\n"
           "  --ofctl-file FILE    (--install) also write the rules for\n"
           "                       'ovs-ofctl add-flows' to FILE\n"
           "  --bundle-max=N       flow mods per bundle (library default)\n"
           "  --batch-ms=N         longest wait to fill a bundle\n"
           "  --max-inflight=N     bundles awaiting confirmation\n"
           "  --idle-timeout=S     idle timeout of the (TCP) rules, 0: none\n"
           "  --exclude-syn        the rules do not match SYN packets\n"
           "  --timeout=S          longest wait for the switch (120)\n"
           "  -h, --help           this help\n",
           program_name, program_name, program_name);
    vlog_usage();
}

static uint64_t
parse_count(const char *option, const char *s, uint64_t max)
{
    char *end;
    unsigned long long n;

    errno = 0;
    n = strtoull(s, &end, 10);
    if (errno || *end || end == s || !n || n > max) {
        ovs_fatal(0, "%s: want a number from 1 to %"PRIu64", not '%s'",
                  option, max, s);
    }
    return n;
}

static void
parse_options(int argc, char *argv[], struct bench *b)
{
    enum {
        OPT_INSTALL = UCHAR_MAX + 1, OPT_LATENCY, OPT_OFCTL_FILE,
        OPT_BUNDLE_MAX, OPT_BATCH_MS, OPT_MAX_INFLIGHT, OPT_IDLE,
        OPT_TIMEOUT, OPT_EXCLUDE_SYN,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        { "install", required_argument, NULL, OPT_INSTALL },
        { "latency", required_argument, NULL, OPT_LATENCY },
        { "ofctl-file", required_argument, NULL, OPT_OFCTL_FILE },
        { "bundle-max", required_argument, NULL, OPT_BUNDLE_MAX },
        { "batch-ms", required_argument, NULL, OPT_BATCH_MS },
        { "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
        { "idle-timeout", required_argument, NULL, OPT_IDLE },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "exclude-syn", no_argument, NULL, OPT_EXCLUDE_SYN },
        { "help", no_argument, NULL, 'h' },
        VLOG_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);
    int n_args;

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_INSTALL:
            b->mode = MODE_INSTALL;
            b->n_flows = parse_count("--install", optarg, MAX_FLOWS);
            break;
        case OPT_LATENCY:
            b->mode = MODE_LATENCY;
            b->rate = parse_count("--latency", optarg, 10000000);
            break;
        case OPT_OFCTL_FILE:
            b->ofctl_file = optarg;
            break;
        case OPT_BUNDLE_MAX:
            b->opts.bundle_max = parse_count("--bundle-max", optarg,
                                             UINT32_MAX);
            break;
        case OPT_BATCH_MS:
            b->opts.batch_ms = atoi(optarg);
            break;
        case OPT_MAX_INFLIGHT:
            b->opts.max_inflight = parse_count("--max-inflight", optarg,
                                               1000);
            break;
        case OPT_IDLE:
            b->opts.idle_timeout[0] = (!strcmp(optarg, "0") ? 0
                                       : parse_count("--idle-timeout",
                                                     optarg, 65535));
            break;
        case OPT_TIMEOUT:
            b->timeout_s = parse_count("--timeout", optarg, 86400);
            break;
        case OPT_EXCLUDE_SYN:
            b->opts.exclude_syn = true;
            break;
        case 'h':
            usage();
            exit(EXIT_SUCCESS);
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    n_args = b->mode == MODE_LATENCY ? 2 : 1;
    if (b->mode == MODE_NONE || argc - optind != n_args) {
        ovs_fatal(0, "want --install N TARGET or --latency RATE SECONDS "
                  "TARGET (use --help for help)");
    }
    if (b->mode == MODE_LATENCY) {
        char *end;

        b->seconds = strtod(argv[optind], &end);
        if (*end || !(b->seconds > 0 && b->seconds <= 3600)) {
            ovs_fatal(0, "--latency: bad SECONDS '%s'", argv[optind]);
        }
        if (b->rate * b->seconds > MAX_FLOWS) {
            ovs_fatal(0, "--latency: more than %d flows", MAX_FLOWS);
        }
        b->n_flows = (uint64_t) (b->rate * b->seconds + 0.5);
        b->n_flows = MAX(b->n_flows, 1);
        optind++;
        if (b->ofctl_file) {
            ovs_fatal(0, "--ofctl-file goes with --install");
        }
    }
    b->opts.target = argv[optind];
}

int
main(int argc, char *argv[])
{
    struct bench b;
    int error, status;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    memset(&b, 0, sizeof b);
    b.timeout_s = 120;
    flowrules_options_init(&b.opts);
    parse_options(argc, argv, &b);
    b.opts.error_cb = on_error;
    b.opts.installed_cb = on_installed;
    b.opts.aux = &b;
    error = flowrules_create(&b.opts, &b.fr);
    if (error) {
        ovs_fatal(error, "bad options");
    }

    status = b.mode == MODE_INSTALL ? run_install(&b) : run_latency(&b);
    fflush(stdout);

    flowrules_destroy(b.fr);
    free(b.set_ns);
    free(b.latency_ns);
    return status;
}
