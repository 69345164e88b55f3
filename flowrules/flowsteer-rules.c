/*
 * flowsteer-rules: drive the flowrules library from the command line.
 *
 * Reads commands from standard input, one per line, and applies them to
 * the switch at TARGET the way flowsteerd does: the commands build the
 * desired table, flowrules sends the difference.  At the end of input it
 * waits until the switch has confirmed everything, prints statistics as
 * JSON, and exits (or, with --stay, keeps the connection and its
 * reconciliation running until killed).  With --adopt, flows adopted from
 * the switch are printed as the 'set' commands that would make them:
 * "adopted: set ID ...".
 *
 *   set ID PROTO SRC DST ACTIONS [vlan=N] [in_port=N] [label=M.A,C,R]
 *       PROTO: tcp, udp, icmp, icmp6, sctp or a number; SRC and DST:
 *       IPv4[:PORT] or [IPv6][:PORT]; ACTIONS as in a policy
 *       (allow, drop, mirror:PORT, meter:RATE, label, log, comma-joined).
 *   del ID
 *   commit             send the changes so far in one bundle
 *   sync               wait until the switch confirmed everything
 *   wait-gone ID       wait until flowrules holds nothing for flow ID
 *   timeouts T U O     set the idle timeouts of TCP, UDP, other flows (s)
 *   stats              print statistics as one JSON line
 *   sleep MS
 *   # comment
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "command-line.h"
#include "flowrules.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream-ssl.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flowsteer_rules);

struct tool {
    struct flowrules *fr;
    int sync_timeout_ms;
    uint64_t removed, removed_packets;
    uint64_t failed, table_full;
};

static void
usage(void)
{
    printf("%s: apply per-flow verdicts to an Open vSwitch bridge\n"
           "usage: %s [OPTIONS] TARGET < COMMANDS\n"
           "TARGET is a bridge name (its management socket in $OVS_RUNDIR,"
           " default\n/var/run/openvswitch) or an OpenFlow endpoint:"
           " unix:FILE, tcp:IP:PORT, ssl:IP:PORT\n"
           "\nCommands (one per line on standard input):\n"
           "  set ID PROTO SRC DST ACTIONS [vlan=N] [in_port=N]"
           " [label=MASTER.APP,CAT,RISKS]\n"
           "  del ID\n  commit\n  sync\n  wait-gone ID\n"
           "  timeouts TCP UDP OTHER\n  stats\n  sleep MS\n"
           "\nOptions:\n"
           "  --table=N            table of the per-flow rules (0)\n"
           "  --priority=N         their priority (40000)\n"
           "  --cookie-ns=HEX      cookie namespace, top 16 bits (f5e1)\n"
           "  --next-table=N       allow: resubmit(,N) (default: NORMAL)\n"
           "  --label-table=N      label: the controller's table (50)\n"
           "  --label-reg=N        first of 3 label registers (5)\n"
           "  --idle-timeout=T,U,O TCP, UDP, other seconds (300,60,30)\n"
           "  --hard-timeout=S     (0: none)\n"
           "  --switch-idle        idle timeouts in the rules (OpenFlow), not"
           " by polling\n"
           "  --log-pps=N          rate of 'log' packets (100)\n"
           "  --bundle-max=N       flow mods per bundle (2000)\n"
           "  --batch-ms=N         longest wait to fill a bundle (1)\n"
           "  --full-policy=P      inspect or drop, when the table is full\n"
           "  --adopt              keep unknown rules of the namespace\n"
           "  --exclude-syn        allowed TCP flows' rules do not match SYN\n"
           "                       packets\n"
           "  --sync-timeout=S     give up waiting after S seconds (30)\n"
           "  --stay               keep running after the input ends\n"
           "  -p, -c, -C           SSL private key, certificate, CA cert"
           " (ssl: targets)\n"
           "  -h, --help           this help\n",
           program_name, program_name);
    vlog_usage();
}

static void
on_error(void *aux, uint64_t flow_id, int error, bool table_full,
         enum flowrules_full_policy policy)
{
    struct tool *t = aux;

    t->failed++;
    t->table_full += table_full;
    printf("error flow %"PRIu64": %s%s\n", flow_id,
           error > 0 && error < 1000 ? ovs_strerror(error)
           : ofperr_get_name(error),
           table_full ? (policy == FLOWRULES_FULL_INSPECT
                         ? " (table full: keep inspecting)"
                         : " (table full: drop new flows)") : "");
    fflush(stdout);
}

static const struct {
    const char *name;
    int proto;
} proto_names[] = {
    { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 },
    { "sctp", 132 },
};

/* Appends endpoint 'ip' and, if 'has_port', 'port' to 's', as 'set' reads
 * them. */
static void
format_endpoint(struct ds *s, const uint8_t ip[16], int version,
                bool has_port, uint16_t port)
{
    char buf[64];

    fs_ip_format(ip, buf, sizeof buf);
    ds_put_format(s, version == 6 ? "[%s]" : "%s", buf);
    if (has_port) {
        ds_put_format(s, ":%"PRIu16, port);
    }
}

/* Appends 'r' to 's' in the syntax of 'set', from PROTO on; for an
 * adopted flow whose rules were not decoded, "(not decoded) PROTO ACTIONS"
 * (see flowrules_adopted_cb). */
static void
format_rule(struct ds *s, const struct flowrules_rule *r)
{
    const struct fs_flow_key *k = &r->key;
    bool ports = k->l4_proto == 6 || k->l4_proto == 17 || k->l4_proto == 132;
    char actions[64];
    size_t i;

    if (!k->ip_version) {
        ds_put_cstr(s, "(not decoded) ");
    }
    for (i = 0; i < ARRAY_SIZE(proto_names); i++) {
        if (proto_names[i].proto == k->l4_proto) {
            break;
        }
    }
    if (i < ARRAY_SIZE(proto_names)) {
        ds_put_format(s, "%s ", proto_names[i].name);
    } else {
        ds_put_format(s, "%d ", k->l4_proto);
    }
    if (!k->ip_version) {
        ds_put_cstr(s, fs_verdict_format(&r->verdict, actions,
                                         sizeof actions));
        return;
    }
    format_endpoint(s, k->src_ip, k->ip_version, ports, k->src_port);
    ds_put_char(s, ' ');
    format_endpoint(s, k->dst_ip, k->ip_version, ports, k->dst_port);
    ds_put_format(s, " %s", fs_verdict_format(&r->verdict, actions,
                                              sizeof actions));
    if (k->vlan) {
        ds_put_format(s, " vlan=%"PRIu16, k->vlan);
    }
    if (r->in_port) {
        ds_put_format(s, " in_port=%"PRIu32, r->in_port);
    }
    if (r->verdict.actions & FS_ACT_LABEL) {
        ds_put_format(s, " label=%"PRIu16".%"PRIu16",%"PRIu16",%"PRIu64,
                      r->master_id, r->app_id, r->category, r->risks);
    }
}

static void
on_removed(void *aux, uint64_t flow_id, const struct flowrules_rule *rule,
           uint64_t packets, uint64_t bytes, int reason)
{
    struct tool *t = aux;
    struct ds s = DS_EMPTY_INITIALIZER;

    t->removed++;
    t->removed_packets += packets;
    format_rule(&s, rule);
    printf("removed flow %"PRIu64": %"PRIu64" packets %"PRIu64" bytes "
           "reason %d: %s\n", flow_id, packets, bytes, reason, ds_cstr(&s));
    ds_destroy(&s);
    fflush(stdout);
}

/* Prints adopted flows as the 'set' command that would make them. */
static void
on_adopted(void *aux OVS_UNUSED, uint64_t flow_id,
           const struct flowrules_rule *rule)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    format_rule(&s, rule);
    printf("adopted: %s%"PRIu64" %s\n", rule->key.ip_version ? "set " : "",
           flow_id, ds_cstr(&s));
    ds_destroy(&s);
    fflush(stdout);
}

/* Parses "a.b.c.d[:port]" or "[v6][:port]". */
static bool
parse_endpoint(const char *s, uint8_t ip[16], uint8_t *version,
               uint16_t *port)
{
    char buf[128];
    const char *colon;
    char *end;

    *port = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || close - s - 1 >= (int) sizeof buf) {
            return false;
        }
        memcpy(buf, s + 1, close - s - 1);
        buf[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, buf, ip) != 1) {
            return false;
        }
        *version = 6;
        colon = close[1] == ':' ? close + 1 : NULL;
        if (close[1] && !colon) {
            return false;
        }
    } else {
        size_t n;

        colon = strchr(s, ':');
        n = colon ? (size_t) (colon - s) : strlen(s);
        if (n >= sizeof buf) {
            return false;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        memset(ip, 0, 10);
        ip[10] = ip[11] = 0xff;
        if (inet_pton(AF_INET, buf, ip + 12) != 1) {
            return false;
        }
        *version = 4;
    }
    if (colon) {
        unsigned long p = strtoul(colon + 1, &end, 10);

        if (*end || p > 65535 || end == colon + 1) {
            return false;
        }
        *port = p;
    }
    return true;
}

static int
parse_proto(const char *s)
{
    size_t i;
    char *end;
    long n;

    for (i = 0; i < ARRAY_SIZE(proto_names); i++) {
        if (!strcmp(s, proto_names[i].name)) {
            return proto_names[i].proto;
        }
    }
    n = strtol(s, &end, 10);
    return *end || n < 0 || n > 255 || end == s ? -1 : n;
}

/* Executes "set ..." from the words in 'argv'.  Returns NULL or an error
 * message (malloc'd). */
static char *
cmd_set(struct tool *t, int argc, char *argv[])
{
    struct flowrules_rule r;
    uint8_t v1, v2;
    char err[256];
    char *end;
    uint64_t id;
    int proto, i, error;

    if (argc < 6) {
        return xstrdup("set: need ID PROTO SRC DST ACTIONS");
    }
    memset(&r, 0, sizeof r);
    id = strtoull(argv[1], &end, 10);
    if (*end || end == argv[1]) {
        return xasprintf("set: bad flow id '%s'", argv[1]);
    }
    proto = parse_proto(argv[2]);
    if (proto < 0) {
        return xasprintf("set: bad protocol '%s'", argv[2]);
    }
    r.key.l4_proto = proto;
    if (!parse_endpoint(argv[3], r.key.src_ip, &v1, &r.key.src_port)
        || !parse_endpoint(argv[4], r.key.dst_ip, &v2, &r.key.dst_port)
        || v1 != v2) {
        return xasprintf("set: bad endpoints '%s' '%s'", argv[3], argv[4]);
    }
    r.key.ip_version = v1;
    if (fs_verdict_parse(argv[5], &r.verdict, err, sizeof err)) {
        return xasprintf("set: %s", err);
    }
    for (i = 6; i < argc; i++) {
        unsigned int a, b, c, d;
        unsigned long long risks;

        if (sscanf(argv[i], "vlan=%u", &a) == 1 && a < 4096) {
            r.key.vlan = a;
        } else if (sscanf(argv[i], "in_port=%u", &a) == 1) {
            r.in_port = a;
        } else if (sscanf(argv[i], "label=%u.%u,%u,%llu", &a, &b, &c,
                          &risks) == 4) {
            r.master_id = a;
            r.app_id = b;
            r.category = c;
            r.risks = risks;
        } else {
            return xasprintf("set: bad option '%s'", argv[i]);
        }
        (void) d;
    }
    error = flowrules_set(t->fr, id, &r);
    return error ? xasprintf("set %"PRIu64": %s", id, ovs_strerror(error))
                 : NULL;
}

static bool
is_synced(const struct tool *t, uint64_t id OVS_UNUSED)
{
    return flowrules_synced(t->fr);
}

static bool
is_gone(const struct tool *t, uint64_t id)
{
    return !flowrules_has_flow(t->fr, id);
}

/* Runs the loop until 'done(t, id)' returns true.  Returns the time it
 * took in ms, or -1 after the sync timeout. */
static long long int
run_until(struct tool *t, bool (*done)(const struct tool *, uint64_t),
          uint64_t id)
{
    long long int start = time_msec();
    long long int deadline = start + t->sync_timeout_ms;

    for (;;) {
        flowrules_run(t->fr);
        if (done(t, id)) {
            return time_msec() - start;
        }
        if (time_msec() >= deadline) {
            return -1;
        }
        flowrules_wait(t->fr);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Executes "timeouts TCP UDP OTHER".  Returns NULL or an error message
 * (malloc'd). */
static char *
cmd_timeouts(struct tool *t, char *argv[])
{
    uint16_t timeouts[3];
    int i;

    for (i = 0; i < 3; i++) {
        char *end;
        unsigned long s = strtoul(argv[i + 1], &end, 10);

        if (*end || end == argv[i + 1] || s > 65535) {
            return xasprintf("timeouts: bad seconds '%s'", argv[i + 1]);
        }
        timeouts[i] = s;
    }
    flowrules_set_idle_timeouts(t->fr, timeouts);
    return NULL;
}

/* Runs the loop until the switch confirmed everything.  Returns the time
 * it took in ms, or -1 on timeout. */
static long long int
sync_now(struct tool *t)
{
    return run_until(t, is_synced, 0);
}

static void
print_stats(const struct tool *t)
{
    struct flowrules_stats s;

    flowrules_get_stats(t->fr, &s);
    printf("{\"flows\":%"PRIu64",\"rules_installed\":%"PRIu64
           ",\"flow_mods_sent\":%"PRIu64",\"bundles_sent\":%"PRIu64
           ",\"bundles_committed\":%"PRIu64",\"bundles_failed\":%"PRIu64
           ",\"commits\":%"PRIu64
           ",\"errors\":%"PRIu64",\"rules_failed\":%"PRIu64
           ",\"table_full\":%"PRIu64",\"connects\":%"PRIu64
           ",\"reconcile_kept\":%"PRIu64",\"reconcile_sent\":%"PRIu64
           ",\"reconcile_deleted\":%"PRIu64",\"reconcile_adopted\":%"PRIu64
           ",\"flows_removed\":%"PRIu64",\"meters\":%"PRIu64
           ",\"memory\":%zu,\"synced\":%s}\n",
           s.flows, s.rules_installed, s.flow_mods_sent, s.bundles_sent,
           s.bundles_committed, s.bundles_failed, s.commits, s.errors,
           s.rules_failed, s.table_full, s.connects, s.reconcile_kept,
           s.reconcile_sent, s.reconcile_deleted, s.reconcile_adopted,
           s.flows_removed, s.meters, s.memory,
           flowrules_synced(t->fr) ? "true" : "false");
    fflush(stdout);
}

/* Executes one input line.  Returns false on an error (printed). */
static bool
execute(struct tool *t, char *line, int lineno)
{
    char *argv[16];
    int argc = 0;
    char *save = NULL, *word;
    char *error = NULL;

    line[strcspn(line, "#\n")] = '\0';
    for (word = strtok_r(line, " \t", &save); word && argc < 16;
         word = strtok_r(NULL, " \t", &save)) {
        argv[argc++] = word;
    }
    if (!argc) {
        return true;
    }
    if (!strcmp(argv[0], "set")) {
        error = cmd_set(t, argc, argv);
    } else if (!strcmp(argv[0], "del") && argc == 2) {
        int e = flowrules_remove(t->fr, strtoull(argv[1], NULL, 10));

        error = e ? xasprintf("del %s: %s", argv[1], ovs_strerror(e)) : NULL;
    } else if (!strcmp(argv[0], "commit") && argc == 1) {
        flowrules_commit(t->fr);
    } else if (!strcmp(argv[0], "sync") && argc == 1) {
        long long int ms = sync_now(t);

        if (ms < 0) {
            error = xstrdup("sync: timed out");
        } else {
            printf("synced in %lld ms\n", ms);
        }
    } else if (!strcmp(argv[0], "wait-gone") && argc == 2) {
        long long int ms = run_until(t, is_gone,
                                     strtoull(argv[1], NULL, 10));

        if (ms < 0) {
            error = xasprintf("wait-gone %s: timed out", argv[1]);
        } else {
            printf("gone %s in %lld ms\n", argv[1], ms);
        }
    } else if (!strcmp(argv[0], "timeouts") && argc == 4) {
        error = cmd_timeouts(t, argv);
    } else if (!strcmp(argv[0], "stats") && argc == 1) {
        print_stats(t);
    } else if (!strcmp(argv[0], "sleep") && argc == 2) {
        long long int until = time_msec() + atoi(argv[1]);

        while (time_msec() < until) {
            flowrules_run(t->fr);
            flowrules_wait(t->fr);
            poll_timer_wait_until(until);
            poll_block();
        }
    } else {
        error = xasprintf("unknown command '%s'", argv[0]);
    }
    if (error) {
        fprintf(stderr, "%s: stdin:%d: %s\n", program_name, lineno, error);
        free(error);
        return false;
    }
    fflush(stdout);
    return true;
}

static void
parse_options(int argc, char *argv[], struct flowrules_options *o,
              struct tool *t, bool *stay)
{
    enum {
        OPT_TABLE = UCHAR_MAX + 1, OPT_PRIORITY, OPT_COOKIE_NS,
        OPT_NEXT_TABLE, OPT_LABEL_TABLE, OPT_LABEL_REG, OPT_IDLE,
        OPT_HARD, OPT_LOG_PPS, OPT_BUNDLE_MAX, OPT_BATCH_MS, OPT_FULL,
        OPT_ADOPT, OPT_SYNC_TIMEOUT, OPT_STAY, OPT_SWITCH_IDLE,
        OPT_EXCLUDE_SYN,
        VLOG_OPTION_ENUMS,
        SSL_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        { "table", required_argument, NULL, OPT_TABLE },
        { "priority", required_argument, NULL, OPT_PRIORITY },
        { "cookie-ns", required_argument, NULL, OPT_COOKIE_NS },
        { "next-table", required_argument, NULL, OPT_NEXT_TABLE },
        { "label-table", required_argument, NULL, OPT_LABEL_TABLE },
        { "label-reg", required_argument, NULL, OPT_LABEL_REG },
        { "idle-timeout", required_argument, NULL, OPT_IDLE },
        { "hard-timeout", required_argument, NULL, OPT_HARD },
        { "log-pps", required_argument, NULL, OPT_LOG_PPS },
        { "bundle-max", required_argument, NULL, OPT_BUNDLE_MAX },
        { "batch-ms", required_argument, NULL, OPT_BATCH_MS },
        { "full-policy", required_argument, NULL, OPT_FULL },
        { "adopt", no_argument, NULL, OPT_ADOPT },
        { "sync-timeout", required_argument, NULL, OPT_SYNC_TIMEOUT },
        { "stay", no_argument, NULL, OPT_STAY },
        { "switch-idle", no_argument, NULL, OPT_SWITCH_IDLE },
        { "exclude-syn", no_argument, NULL, OPT_EXCLUDE_SYN },
        { "help", no_argument, NULL, 'h' },
        VLOG_LONG_OPTIONS,
        STREAM_SSL_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        unsigned int a, b, d;

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_TABLE:
            o->table = atoi(optarg);
            break;
        case OPT_PRIORITY:
            o->priority = atoi(optarg);
            break;
        case OPT_COOKIE_NS:
            o->cookie_ns = strtoul(optarg, NULL, 16);
            break;
        case OPT_NEXT_TABLE:
            o->next_table = !strcmp(optarg, "normal") ? -1 : atoi(optarg);
            break;
        case OPT_LABEL_TABLE:
            o->label_table = atoi(optarg);
            break;
        case OPT_LABEL_REG:
            o->label_reg = atoi(optarg);
            break;
        case OPT_IDLE:
            if (sscanf(optarg, "%u,%u,%u", &a, &b, &d) != 3
                || a > 65535 || b > 65535 || d > 65535) {
                ovs_fatal(0, "--idle-timeout: want TCP,UDP,OTHER seconds");
            }
            o->idle_timeout[0] = a;
            o->idle_timeout[1] = b;
            o->idle_timeout[2] = d;
            break;
        case OPT_HARD:
            o->hard_timeout = atoi(optarg);
            break;
        case OPT_LOG_PPS:
            o->log_pps = atoi(optarg);
            break;
        case OPT_BUNDLE_MAX:
            o->bundle_max = atoi(optarg);
            break;
        case OPT_BATCH_MS:
            o->batch_ms = atoi(optarg);
            break;
        case OPT_FULL:
            if (!strcmp(optarg, "inspect")) {
                o->full_policy = FLOWRULES_FULL_INSPECT;
            } else if (!strcmp(optarg, "drop")) {
                o->full_policy = FLOWRULES_FULL_DROP_NEW;
            } else {
                ovs_fatal(0, "--full-policy: inspect or drop");
            }
            break;
        case OPT_ADOPT:
            o->adopt = true;
            break;
        case OPT_SYNC_TIMEOUT:
            t->sync_timeout_ms = atoi(optarg) * 1000;
            break;
        case OPT_STAY:
            *stay = true;
            break;
        case OPT_SWITCH_IDLE:
            o->poll_idle = false;
            break;
        case OPT_EXCLUDE_SYN:
            o->exclude_syn = true;
            break;
        case 'h':
            usage();
            exit(EXIT_SUCCESS);
        VLOG_OPTION_HANDLERS
        STREAM_SSL_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);
}

int
main(int argc, char *argv[])
{
    struct flowrules_options o;
    struct tool t = { .sync_timeout_ms = 30000 };
    bool stay = false, ok = true;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, error;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    flowrules_options_init(&o);
    parse_options(argc, argv, &o, &t, &stay);
    if (optind != argc - 1) {
        ovs_fatal(0, "need exactly one TARGET (use --help for help)");
    }
    /* A bare bridge name means its management socket, as for ovs-ofctl. */
    if (!strchr(argv[optind], ':')) {
        const char *rundir = getenv("OVS_RUNDIR");

        o.target = xasprintf("unix:%s/%s.mgmt",
                             rundir ? rundir : "/var/run/openvswitch",
                             argv[optind]);
    } else {
        o.target = argv[optind];
    }
    o.error_cb = on_error;
    o.removed_cb = on_removed;
    o.adopted_cb = on_adopted;
    o.aux = &t;
    error = flowrules_create(&o, &t.fr);
    if (error) {
        ovs_fatal(error, "bad options");
    }

    /* Commands before the first 'sync' build the desired table that the
     * first reconciliation compares with the switch: a restart with the
     * same commands changes nothing. */
    while (getline(&line, &cap, stdin) > 0) {
        ok &= execute(&t, line, ++lineno);
    }
    free(line);
    if (sync_now(&t) < 0) {
        fprintf(stderr, "%s: timed out waiting for the switch\n",
                program_name);
        ok = false;
    }
    print_stats(&t);
    while (stay) {
        flowrules_run(t.fr);
        flowrules_wait(t.fr);
        poll_block();
    }
    flowrules_destroy(t.fr);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
