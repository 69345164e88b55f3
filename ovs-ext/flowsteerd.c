/*
 * flowsteerd: the OVS extension daemon.
 *
 * Reads its configuration from the Open_vSwitch database (see
 * fs-config.h), keeps the inspector's policy and port profiles in step
 * with it, and answers ovs-appctl commands.  One poll loop, OVS style:
 * every module has a run and a wait function, and main() blocks once per
 * iteration in poll_block().
 *
 * The modules: fs-config (the database), fs-policy (the policy file),
 * fs-topo (the security bridge and its ports), fs-live (the liveness
 * tap), fs-steer (the steering pipeline), fs-guard (a restarted switch
 * waits for the steering), fs-watchdog (a stalled loop takes the liveness
 * tap down), fs-appliance (the inspector appliance, a process of its own
 * that reads the inspector's packets and classifies them), fs-verdict
 * (verdicts to rules, the flow state across restarts), fs-flows
 * (flowsteer/flows).
 * This file reads the configuration into them, runs the loop and answers
 * the other commands.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "flowsteer/inspector.h"
#include "flowrules.h"
#include "fs-appliance.h"
#include "fs-config.h"
#include "fs-fleet.h"
#include "fs-flows.h"
#include "fs-guard.h"
#include "fs-live.h"
#include "fs-migrate.h"
#include "fs-policy.h"
#include "fs-steer.h"
#include "fs-topo.h"
#include "fs-verdict.h"
#include "fs-watchdog.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "packets.h"
#include "smap.h"
#include "svec.h"
#include "vswitch-idl.h"
#include "fs-sandbox.h"

VLOG_DEFINE_THIS_MODULE(flowsteerd);

/* The daemon's state. */
struct flowsteerd {
    struct ovsdb_idl *idl;
    unsigned int idl_seqno;
    struct fs_config cfg;
    bool cfg_valid;
    struct fs_topo topo;
    struct fs_steer *steer;
    struct fs_appliance *app;   /* flowsteer-inspectord. */
    const char *backend;        /* Its port backend (fs_datapath_backend()). */
    struct svec port_args;      /* Its port's arguments (dpdk). */
    struct fs_verdicts *verdicts;   /* Verdict rules in the integration
                                     * bridge. */
    struct fs_watchdog *watchdog;
    struct fs_guard *guard;     /* Holds a restarted ovs-vswitchd until the
                                 * steering is back (fail=closed). */
    struct fs_live *live;       /* The liveness tap. */

    struct fs_inspector *insp;  /* Judges the appliance's records. */
    struct fs_policy *policy;

    struct fs_flows *flows;     /* flowsteer/flows. */
    struct fs_migrate *migrate; /* Live migration between hosts. */
    struct fs_fleet *fleet;     /* The Flowsteer database, if followed. */

    bool exiting;
};

static char *db_remote;
static char *unixctl_path;
static char *flow_state;        /* --flow-state, or NULL for the default. */
static unsigned int max_flows = 65536;  /* --max-flows. */
static char *inspectord;        /* --inspectord, or NULL: found. */

static void usage(void) OVS_NO_RETURN;

static void
usage(void)
{
    printf("%s: flowsteer's Open vSwitch extension daemon\n"
           "usage: %s [OPTIONS] [DATABASE]\n"
           "where DATABASE is an ovsdb-server socket (default: "
           "unix:%s/db.sock).\n", program_name, program_name, ovs_rundir());
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  --db=DATABASE           same as the argument\n"
           "  --unixctl=SOCKET        override the control socket name\n"
           "  --max-flows=N           the inspector's flow table (default\n"
           "                          65536; flows with rules count: it\n"
           "                          bounds them)\n"
           "  --flow-state=FILE       keep the flows with rules there across\n"
           "                          restarts (default:\n"
           "                          %s/flowsteerd.flows;\n"
           "                          'none': nowhere)\n"
           "  --inspectord=PROGRAM    the inspector appliance to run\n"
           "                          (default: flowsteer-inspectord beside\n"
           "                          this program, else %s)\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n",
           ovs_rundir(), FLOWSTEER_SBINDIR "/flowsteer-inspectord");
    exit(EXIT_SUCCESS);
}

/* flowsteer-inspectord beside this program (in a build tree, where this
 * program is libtool's, one level up), else where it is installed. */
static char *
find_inspectord(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (n > 0) {
        char *dir, *path;

        self[n] = '\0';
        dir = dir_name(self);
        path = xasprintf("%s/flowsteer-inspectord", dir);
        if (access(path, X_OK)) {
            free(path);
            path = xasprintf("%s/../flowsteer-inspectord", dir);
        }
        free(dir);
        if (!access(path, X_OK)) {
            return path;
        }
        free(path);
    }
    return xstrdup(FLOWSTEER_SBINDIR "/flowsteer-inspectord");
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_DB = UCHAR_MAX + 1,
        OPT_UNIXCTL,
        OPT_FLOW_STATE,
        OPT_MAX_FLOWS,
        OPT_INSPECTORD,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        { "db", required_argument, NULL, OPT_DB },
        { "unixctl", required_argument, NULL, OPT_UNIXCTL },
        { "flow-state", required_argument, NULL, OPT_FLOW_STATE },
        { "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
        { "inspectord", required_argument, NULL, OPT_INSPECTORD },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        VLOG_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB:
            db_remote = xstrdup(optarg);
            break;
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case OPT_MAX_FLOWS:
            if (!str_to_uint(optarg, 10, &max_flows) || max_flows < 16
                || max_flows > (1u << 24)) {
                ovs_fatal(0, "--max-flows=%s: want 16 to %u", optarg,
                          1u << 24);
            }
            break;
        case OPT_FLOW_STATE:
            free(flow_state);
            flow_state = xstrdup(optarg);
            break;
        case OPT_INSPECTORD:
            free(inspectord);
            inspectord = xstrdup(optarg);
            break;
        case 'h':
            usage();
            /* usage() exits. */
            OVS_NOT_REACHED();
        case 'V':
            printf("%s (flowsteer) %s, libflowsteer-inspector %s, nDPI %s\n",
                   program_name, FLOWSTEER_VERSION, fs_inspector_version(),
                   fs_inspector_ndpi_version());
            exit(EXIT_SUCCESS);
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    argc -= optind;
    argv += optind;
    if (argc > 1) {
        ovs_fatal(0, "at most one non-option argument (use --help for help)");
    } else if (argc == 1) {
        free(db_remote);
    free(flow_state);
        db_remote = xstrdup(argv[0]);
    }
    if (!db_remote) {
        db_remote = xasprintf("unix:%s/db.sock", ovs_rundir());
    }
    if (!inspectord) {
        inspectord = find_inspectord();
    }
    if (access(inspectord, X_OK)) {
        ovs_fatal(errno, "%s: cannot run the inspector appliance (see "
                  "--inspectord)", inspectord);
    }
    if (!flow_state) {
        flow_state = xasprintf("%s/flowsteerd.flows", ovs_rundir());
    } else if (!strcmp(flow_state, "none")) {
        free(flow_state);
        flow_state = NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* Policy. */

/* True when the database's policy rules here (once there is one; until
 * then, the file's, if any), so no file is looked at. */
static bool
policy_from_db(const struct flowsteerd *d)
{
    const char *name;
    int64_t version;

    return (fs_fleet_enabled(d->fleet)
            && (fs_fleet_policy(d->fleet, &name, &version) || !d->cfg.policy));
}

static void
policy_run(struct flowsteerd *d, bool force)
{
    if (policy_from_db(d)) {
        const char *name, *text;
        int64_t version;

        text = fs_fleet_policy(d->fleet, &name, &version);
        if (force || fs_fleet_policy_changed(d->fleet)) {
            fs_policy_set_text(d->policy, name, text, d->cfg.fail, name);
            if (text) {
                fs_fleet_policy_applied(d->fleet, version,
                                        !*fs_policy_error(d->policy));
            }
        }
        return;
    }
    fs_policy_run(d->policy, d->cfg.policy, d->cfg.fail,
                  d->cfg.policy_permissive, force);
}

/* ---------------------------------------------------------------------- */
/* Configuration. */

static uint32_t
idle_ms(uint16_t seconds)
{
    return seconds * 1000u;
}

/* Makes the directory of the inspector port's vhost-user socket, owned by
 * the appliance's user (who makes the socket) and no one else, if it is
 * not there; logs a failure (the appliance then cannot serve the socket,
 * and says so). */
static void
make_vhost_dir(void)
{
    struct fs_sandbox_options so = FS_SANDBOX_OPTIONS_INIT;
    struct fs_sandbox *sb = NULL;
    char *dir = fs_topo_vhost_dir();
    struct stat st;
    uid_t uid;
    gid_t gid;

    /* The user the appliance's sandbox becomes (fs-sandbox resolves it:
     * its default, or nobody).  Without one, the appliance cannot start
     * either; the directory is not given to root for want of it. */
    if (fs_sandbox_create(&so, &sb)) {
        VLOG_ERR("%s: no user for the appliance: not made", dir);
        free(dir);
        return;
    }
    fs_sandbox_get_ids(sb, &uid, &gid);
    fs_sandbox_destroy(sb);
    if (mkdir(dir, 0700) && errno != EEXIST) {
        VLOG_ERR("%s: cannot make the vhost-user socket directory: %s", dir,
                 ovs_strerror(errno));
    } else if (lstat(dir, &st) || !S_ISDIR(st.st_mode)) {
        VLOG_ERR("%s: not a directory", dir);
    } else if ((st.st_uid != uid || st.st_gid != gid)
               && chown(dir, uid, gid)) {
        VLOG_ERR("%s: cannot give it to the appliance's user: %s", dir,
                 ovs_strerror(errno));
    } else if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700)) {
        VLOG_ERR("%s: cannot make it private: %s", dir, ovs_strerror(errno));
    }
    free(dir);
}

/* Adds to 'args' the appliance's arguments for the dpdk backend: its
 * vhost-user socket (and makes its directory) and its EAL. */
static void
dpdk_port_args(const struct fs_config *cfg, struct svec *args)
{
    char *path = fs_topo_vhost_path();

    make_vhost_dir();
    svec_add_nocopy(args, xasprintf("--vhost-socket=%s", path));
    if (cfg->dpdk_lcores) {
        svec_add_nocopy(args, xasprintf("--dpdk-lcores=%s",
                                        cfg->dpdk_lcores));
    }
    svec_add_nocopy(args, xasprintf("--dpdk-mem=%u", cfg->dpdk_mem_mb));
    if (cfg->dpdk_extra) {
        svec_add_nocopy(args, xasprintf("--dpdk-extra=%s", cfg->dpdk_extra));
    }
    free(path);
}

static void
config_apply(struct flowsteerd *d)
{
    const struct fs_config_port *p;
    int e;

    for (e = 0; e < FS_N_EXCEPTIONS; e++) {
        fs_inspector_set_exception(d->insp, e, d->cfg.exceptions[e]);
    }
    fs_inspector_set_port_limit(d->insp, d->cfg.max_flows_per_port,
                                d->cfg.port_full_evict
                                ? FS_PORT_FULL_EVICT_IDLE : FS_PORT_FULL_DROP);
    fs_inspector_set_idle_timeouts(d->insp, idle_ms(d->cfg.idle_timeout[0]),
                                   idle_ms(d->cfg.idle_timeout[1]),
                                   idle_ms(d->cfg.idle_timeout[2]));
    LIST_FOR_EACH (p, node, &d->cfg.ports) {
        if (p->ofport > 0) {
            fs_inspector_set_port(d->insp, p->ofport, p->name, p->profile,
                                  NULL);
            fs_inspector_set_port_mac(d->insp, p->ofport,
                                      p->has_mac ? p->mac : NULL, NULL);
        }
    }
    fs_appliance_set_config(d->app, &d->cfg);
    fs_fleet_set_config(d->fleet, &d->cfg);
    policy_run(d, true);
    fs_migrate_set_config(d->migrate, &d->cfg);
    fs_verdicts_commit(d->verdicts);

    {
        const char *why;

        d->backend = fs_datapath_backend(&d->cfg, &why);
        VLOG_INFO("datapath %s: the appliance reads its port with %s (%s)",
                  fs_datapath_name(d->cfg.datapath), d->backend, why);
    }
    svec_clear(&d->port_args);
    if (d->cfg.workers > 1) {
        svec_add_nocopy(&d->port_args,
                        xasprintf("--workers=%u", d->cfg.workers));
    }
    if (!strcmp(d->backend, "dpdk")) {
        dpdk_port_args(&d->cfg, &d->port_args);
    }
}

static void
config_run(struct flowsteerd *d)
{
    struct fs_config cfg;
    const struct fs_config_problem *pr;

    if (ovsdb_idl_get_seqno(d->idl) == d->idl_seqno) {
        return;
    }
    d->idl_seqno = ovsdb_idl_get_seqno(d->idl);
    if (!ovsdb_idl_has_ever_connected(d->idl)) {
        return;
    }
    fs_config_read(d->idl, d->cfg_valid ? &d->cfg : NULL, &cfg);
    if (d->cfg_valid && fs_config_equal(&cfg, &d->cfg)) {
        fs_config_destroy(&cfg);
        return;
    }
    LIST_FOR_EACH (pr, node, &cfg.problems) {
        VLOG_WARN("configuration: %s", pr->msg);
    }
    if (d->cfg_valid) {
        fs_config_destroy(&d->cfg);
    }
    d->cfg = cfg;
    ovs_list_moved(&d->cfg.ports, &cfg.ports);
    ovs_list_moved(&d->cfg.problems, &cfg.problems);
    d->cfg_valid = true;
    VLOG_INFO("configuration: inspection %s, bridge %s, mode %s, fail %s, "
              "%"PRIuSIZE" inspected ports", d->cfg.enabled ? "on" : "off",
              d->cfg.bridge ? d->cfg.bridge : "(none)",
              fs_mode_name(d->cfg.mode), fs_fail_name(d->cfg.fail),
              ovs_list_size(&d->cfg.ports));
    config_apply(d);
}

/* ---------------------------------------------------------------------- */
/* Steering. */

/* Runs the restart guard (fs-guard.h): wanted while inspection is on,
 * inline, with fail=closed. */
static void
guard_run(struct flowsteerd *d)
{
    unsigned int seqno;
    bool installed = fs_steer_installed(d->steer, &seqno);

    fs_guard_run(d->guard, d->idl,
                 (d->cfg_valid && d->cfg.enabled && d->cfg.bridge
                  && d->cfg.fail == FS_FAIL_CLOSED
                  && d->cfg.mode == FS_MODE_INLINE),
                 installed, seqno);
}

/* ---------------------------------------------------------------------- */
/* ovs-appctl commands. */

static void
flowsteer_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *d_)
{
    struct flowsteerd *d = d_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    int c;

    ds_put_format(&ds, "flowsteerd %s, database %s (%s)\n",
                  FLOWSTEER_VERSION, db_remote,
                  ovsdb_idl_is_connected(d->idl) ? "connected"
                                                 : "not connected");
    if (d->cfg_valid) {
        const struct fs_config_port *p;

        fs_config_format(&d->cfg, &ds);
        ds_put_cstr(&ds, "flows of each inspected port:");
        LIST_FOR_EACH (p, node, &d->cfg.ports) {
            ds_put_format(&ds, " %s=%"PRIu32, p->name,
                          p->ofport > 0
                          ? fs_inspector_port_flows(d->insp, p->ofport) : 0);
        }
        ds_put_char(&ds, '\n');
        fs_topo_format(&d->topo, &d->cfg, &ds);
        fs_live_format(d->live, &ds);
        fs_steer_format(d->steer, &ds);
        fs_appliance_format(d->app, &ds);
        fs_verdicts_format(d->verdicts, &ds);
        fs_watchdog_format(d->watchdog, &ds);
        fs_guard_format(d->guard, &ds);
        fs_flows_format_stats(d->flows, &ds);
        fs_migrate_format_summary(d->migrate, &ds);
        fs_fleet_format(d->fleet, &ds);
    } else {
        ds_put_cstr(&ds, "configuration: not read yet\n");
    }
    if (*fs_policy_error(d->policy)) {
        ds_put_format(&ds, "  policy: %s\n", fs_policy_error(d->policy));
    }
    /* What is in force: the key's actions, or the policy file's. */
    ds_put_cstr(&ds, "exception policy:");
    for (c = 0; c < FS_N_EXCEPTIONS; c++) {
        ds_put_format(&ds, " %s=%s", fs_exception_name(c),
                      fs_exception_action_name(
                          fs_inspector_get_exception(d->insp, c)));
    }
    ds_put_char(&ds, '\n');
    ds_put_cstr(&ds, "counters:");
    for (c = 0; c < FS_N_COUNTERS; c++) {
        ds_put_format(&ds, " %s=%"PRIu64, fs_counter_name(c),
                      fs_appliance_counter(d->app, c));
    }
    ds_put_char(&ds, '\n');
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
flowsteer_policy_reload(struct unixctl_conn *conn, int argc OVS_UNUSED,
                        const char *argv[] OVS_UNUSED, void *d_)
{
    struct flowsteerd *d = d_;

    if (!d->cfg.policy) {
        unixctl_command_reply_error(conn, "no policy configured "
                                    "(flowsteer-policy)");
        return;
    }
    policy_run(d, true);
    if (*fs_policy_error(d->policy)) {
        unixctl_command_reply_error(conn, fs_policy_error(d->policy));
    } else {
        unixctl_command_reply(conn, "policy reloaded");
    }
}

static void
flowsteer_flush_flows(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *d_)
{
    struct flowsteerd *d = d_;
    char *reply;

    reply = xasprintf("%u flows flushed", fs_verdicts_flush(d->verdicts));

    unixctl_command_reply(conn, reply);
    free(reply);
}

static void
flowsteer_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *d_)
{
    struct flowsteerd *d = d_;

    d->exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
inspector_log(void *aux OVS_UNUSED, enum fs_log_level level, const char *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(60, 60);
    enum vlog_level l = (level == FS_LOG_ERR ? VLL_ERR
                         : level == FS_LOG_WARN ? VLL_WARN
                         : level == FS_LOG_INFO ? VLL_INFO : VLL_DBG);

    vlog_rate_limit(&this_module, l, &rl, "inspector: %s", msg);
}

/* ---------------------------------------------------------------------- */
/* The daemon. */

/* The summary the Chassis row carries, for the fleet's admins (asked by
 * fs-fleet when it writes the row). */
static size_t
fleet_counters(void *d_, const char *keys[], int64_t values[], size_t max)
{
    static const char *const names[] = {
        "flows", "flows_classifying", "verdict_rules", "rules_failed",
    };
    struct flowsteerd *d = d_;
    FS_INSPECTOR_STATS(is);
    struct flowrules_stats rs;

    fs_inspector_get_stats(d->insp, &is);
    flowrules_get_stats(fs_verdicts_rules(d->verdicts), &rs);
    int64_t got[] = {
        is.flows, is.flows_classifying, rs.rules_installed, rs.rules_failed,
    };
    BUILD_ASSERT_DECL(ARRAY_SIZE(names) == ARRAY_SIZE(got));
    size_t n = MIN(max, ARRAY_SIZE(names));
    memcpy(keys, names, n * sizeof *keys);
    memcpy(values, got, n * sizeof *values);
    return n;
}

/* Creates the modules (the unixctl commands are registered before
 * daemonizing, the threads and sockets after: see fs-watchdog.h). */
static void
flowsteerd_init(struct flowsteerd *d)
{
    int error;

    memset(d, 0, sizeof *d);
    d->backend = "afpacket";
    svec_init(&d->port_args);
    fs_topo_init(&d->topo);
    d->live = fs_live_create();
    d->steer = fs_steer_create();
    unixctl_command_register("exit", "", 0, 0, flowsteer_exit, d);
    unixctl_command_register("flowsteer/show", "", 0, 0, flowsteer_show, d);
    unixctl_command_register("flowsteer/policy-reload", "", 0, 0,
                             flowsteer_policy_reload, d);
    unixctl_command_register("flowsteer/flush-flows", "", 0, 0,
                             flowsteer_flush_flows, d);
    daemonize_complete();
    d->watchdog = fs_watchdog_create();
    d->guard = fs_guard_create();

    d->verdicts = fs_verdicts_create(flow_state);
    {
        /* Its ids are odd, the appliance's even: a flow it imports
         * (migration) and one the appliance makes, or imports still in
         * classification, never share an id, which names their rules. */
        FS_INSPECTOR_OPTS(opts, .max_flows = max_flows,
                          .flow_id_stride = 2, .flow_id_offset = 1,
                          .log_cb = inspector_log, .ignore_vlan = 1,
                          .event_cb = fs_verdicts_event,
                          .event_aux = d->verdicts);

        error = fs_inspector_create(&opts, &d->insp);
        if (error) {
            ovs_fatal(-error, "cannot create the inspector");
        }
    }
    d->app = fs_appliance_create(inspectord, max_flows,
                                 fs_verdicts_appliance_event,
                                 fs_verdicts_resync, d->verdicts);
    fs_verdicts_attach(d->verdicts, d->insp, d->app);
    d->policy = fs_policy_create(d->insp, d->verdicts, d->app);
    d->flows = fs_flows_create(d->insp, d->verdicts, d->app);
    d->migrate = fs_migrate_create(d->insp, d->verdicts, d->app);
    if (flow_state) {
        char *incoming = xasprintf("%s.incoming", flow_state);

        fs_migrate_set_incoming_file(d->migrate, incoming);
        free(incoming);
    }
    fs_verdicts_set_end_hook(d->verdicts, fs_migrate_flow_ended, d->migrate);
    d->fleet = fs_fleet_create();
    fs_migrate_set_fleet(d->migrate, d->fleet);
    fs_fleet_set_counters_cb(d->fleet, fleet_counters, d);
    d->idl = ovsdb_idl_create(db_remote, &ovsrec_idl_class, false, true);
    fs_config_register(d->idl);
    fs_guard_register(d->idl);
}

/* Brings every module in step with the configuration, in order: the
 * policy, the liveness tap (and the watchdog that takes it down), the
 * topology, the steering, the verdict rules' bridge, and last the data
 * path. */
static void
flowsteerd_apply(struct flowsteerd *d)
{
    const struct fs_config *cfg = &d->cfg;

    policy_run(d, false);
    fs_live_run(d->live, cfg->enabled, d->topo.live_ofport,
                d->topo.live_link_down);
    fs_watchdog_set(d->watchdog, (cfg->enabled && fs_live_is_open(d->live)
                                  && cfg->mode == FS_MODE_INLINE
                                  ? FS_LIVE_PORT : NULL),
                    cfg->watchdog_ms);
    fs_topo_run(&d->topo, d->idl, cfg, fs_live_is_open(d->live));
    fs_steer_update(d->steer, cfg, &d->topo);
    fs_verdicts_set_bridge(d->verdicts, cfg->enabled ? cfg->bridge : NULL,
                           cfg->idle_timeout, fs_policy_loaded(d->policy));
    /* No packet is judged before the rules are reconciled and the flows
     * restored: new flow ids must not reuse a live cookie. */
    fs_appliance_set(d->app, (cfg->enabled && d->topo.complete
                              && fs_verdicts_ready(d->verdicts)
                              ? FS_INSP_PORT : NULL),
                     d->backend, &d->port_args, cfg->mode,
                     MAX(2 * cfg->watchdog_ms, 1000));
    /* Inline, the steering's fail mode applies while the appliance cannot
     * judge packets (starting, dead, hung). */
    fs_live_set_up(d->live, (cfg->mode != FS_MODE_INLINE
                             || fs_appliance_ready(d->app)));
}

static void
flowsteerd_run(struct flowsteerd *d, struct unixctl_server *unixctl)
{
    fs_watchdog_run(d->watchdog);
    ovsdb_idl_run(d->idl);
    config_run(d);
    fs_fleet_run(d->fleet);
    if (d->cfg_valid) {
        flowsteerd_apply(d);
    }
    fs_steer_run(d->steer);
    guard_run(d);
    fs_verdicts_run(d->verdicts);
    fs_appliance_run(d->app);
    fs_flows_set_config(d->flows, d->cfg_valid ? &d->cfg : NULL);
    unixctl_server_run(unixctl);
    fs_flows_run(d->flows);
    fs_migrate_run(d->migrate);
}

static void
flowsteerd_wait(struct flowsteerd *d, struct unixctl_server *unixctl)
{
    ovsdb_idl_wait(d->idl);
    unixctl_server_wait(unixctl);
    fs_flows_wait(d->flows);
    fs_migrate_wait(d->migrate);
    fs_fleet_wait(d->fleet);
    fs_watchdog_wait(d->watchdog);
    fs_live_wait(d->live);
    fs_steer_wait(d->steer);
    fs_guard_wait(d->guard);
    fs_appliance_wait(d->app);
    fs_verdicts_wait(d->verdicts);
    if (!policy_from_db(d)) {
        /* (Its timer is for the file, which is not looked at.) */
        fs_policy_wait(d->policy);
    }
}

/* Saves the flow state and frees (flowsteer/flows, which answers what
 * waits, goes first: see main()). */
static void
flowsteerd_destroy(struct flowsteerd *d)
{
    fs_topo_destroy(&d->topo);
    fs_live_destroy(d->live);
    fs_steer_destroy(d->steer);
    fs_verdicts_set_end_hook(d->verdicts, NULL, NULL);
    fs_migrate_destroy(d->migrate);
    fs_fleet_destroy(d->fleet);
    fs_verdicts_destroy(d->verdicts);
    fs_watchdog_destroy(d->watchdog);
    fs_guard_destroy(d->guard, d->idl);
    fs_appliance_destroy(d->app);
    svec_destroy(&d->port_args);
    ovsdb_idl_destroy(d->idl);
    if (d->cfg_valid) {
        fs_config_destroy(&d->cfg);
    }
    fs_inspector_destroy(d->insp);
    fs_policy_destroy(d->policy);
}

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    struct flowsteerd d;

    set_program_name(argv[0]);
    service_start(&argc, &argv);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();

    daemonize_start(false);
    if (unixctl_server_create(unixctl_path, &unixctl)) {
        exit(EXIT_FAILURE);
    }
    flowsteerd_init(&d);
    VLOG_INFO("flowsteerd %s started, database %s", FLOWSTEER_VERSION,
              db_remote);

    while (!d.exiting) {
        flowsteerd_run(&d, unixctl);
        flowsteerd_wait(&d, unixctl);
        poll_block();
    }

    /* The flows' requests are answered before the server goes. */
    fs_flows_destroy(d.flows);
    unixctl_server_destroy(unixctl);
    flowsteerd_destroy(&d);
    free(db_remote);
    service_stop();
    return 0;
}
