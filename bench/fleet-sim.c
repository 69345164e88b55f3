/*
 * fleet-sim: N simulated chassis of the Flowsteer database in one
 * process, for bench/bench-fleet.sh.  Each is flowsteerd's own fleet
 * module (ovs-ext/fs-fleet.c: the same IDL, the same monitor conditions,
 * the same Chassis row writes), without a switch: it "puts in force" each
 * policy version as soon as it sees it.
 *
 *   fleet-sim [--private-key=F --certificate=F --ca-cert=F] [--log-file=F]
 *             [--relay] REMOTE N OUT
 *
 * (--relay: REMOTE names ovsdb-server relays, flowsteer-remote-relay.)
 *
 * Writes OUT.status (atomically, at most every 100 ms): "VERSION COUNT"
 * lines, how many chassis have each version in force now; how many are
 * connected ("connected COUNT"); how many times in all a chassis
 * downloaded the whole database ("downloads COUNT": once each at the
 * start, and again for each reconnection that monitor_cond_since could
 * not resume); how many Chassis row writes they made ("writes COUNT");
 * how many times a writing session was closed for not coming up, in an
 * election ("pauses COUNT"); how many commits were slow enough to
 * stretch a chassis's write interval ("slow COUNT") and the longest such
 * interval now ("interval MS"); and the process's resident memory ("rss
 * KB").  Once
 * OUT.stop exists, writes OUT: a line "VERSION INDEX WALL_MS" for every
 * version each chassis saw, and exits.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fatal-signal.h"
#include "fs-config.h"
#include "fs-fleet.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream-ssl.h"
#include "timeval.h"
#include "util.h"

struct seen {
    int64_t version;
    long long int wall_ms;
};

struct sim {
    struct fs_fleet *fleet;
    int64_t version;            /* In force, -1: none. */
    struct seen *seen;
    size_t n_seen, allocated;
};

static long
rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;

    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static void
write_status(const char *out, const struct sim *sims, size_t n)
{
    char *tmp = xasprintf("%s.status.tmp", out);
    char *path = xasprintf("%s.status", out);
    FILE *f = fopen(tmp, "w");
    int64_t *versions = xcalloc(n, sizeof *versions);
    size_t n_versions = 0;

    if (!f) {
        ovs_fatal(errno, "%s", tmp);
    }
    for (size_t i = 0; i < n; i++) {
        size_t j;

        for (j = 0; j < n_versions && versions[j] != sims[i].version; j++) {
            continue;
        }
        if (j == n_versions) {
            versions[n_versions++] = sims[i].version;
        }
    }
    for (size_t j = 0; j < n_versions; j++) {
        size_t count = 0;

        for (size_t i = 0; i < n; i++) {
            count += sims[i].version == versions[j];
        }
        fprintf(f, "%"PRId64" %"PRIuSIZE"\n", versions[j], count);
    }
    size_t connected = 0;
    uint64_t downloads = 0, writes = 0, pauses = 0, slow = 0;
    long long int interval = 0;
    for (size_t i = 0; i < n; i++) {
        connected += fs_fleet_is_connected(sims[i].fleet);
        downloads += fs_fleet_n_downloads(sims[i].fleet);
        writes += fs_fleet_n_writes(sims[i].fleet);
        pauses += fs_fleet_n_write_pauses(sims[i].fleet);
        slow += fs_fleet_n_slow_commits(sims[i].fleet);
        interval = MAX(interval, fs_fleet_write_interval(sims[i].fleet));
    }
    fprintf(f, "connected %"PRIuSIZE"\n", connected);
    fprintf(f, "downloads %"PRIu64"\n", downloads);
    fprintf(f, "writes %"PRIu64"\n", writes);
    fprintf(f, "pauses %"PRIu64"\n", pauses);
    fprintf(f, "slow %"PRIu64"\n", slow);
    fprintf(f, "interval %lld\n", interval);
    fprintf(f, "rss %ld\n", rss_kb());
    fclose(f);
    if (rename(tmp, path)) {
        ovs_fatal(errno, "%s", path);
    }
    free(versions);
    free(tmp);
    free(path);
}

static void
write_seen(const char *out, const struct sim *sims, size_t n)
{
    FILE *f = fopen(out, "w");

    if (!f) {
        ovs_fatal(errno, "%s", out);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sims[i].n_seen; j++) {
            fprintf(f, "%"PRId64" %"PRIuSIZE" %lld\n", sims[i].seen[j].version,
                    i, sims[i].seen[j].wall_ms);
        }
    }
    fclose(f);
}

int
main(int argc, char *argv[])
{
    const char *key = NULL, *cert = NULL, *ca = NULL;
    bool relay = false;
    struct fs_config cfg;
    long long int next_status = 0;
    struct sim *sims;
    char *stop;
    size_t n;
    int i;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strncmp(argv[i], "--private-key=", 14)) {
            key = argv[i] + 14;
        } else if (!strncmp(argv[i], "--certificate=", 14)) {
            cert = argv[i] + 14;
        } else if (!strncmp(argv[i], "--ca-cert=", 10)) {
            ca = argv[i] + 10;
        } else if (!strcmp(argv[i], "--relay")) {
            relay = true;       /* REMOTE names relays. */
        } else if (!strncmp(argv[i], "--log-file=", 11)) {
            /* The sessions' reconnections (modules reconnect and
             * ovsdb_cs, INFO): how each went, for bench-fleet to count. */
            if (vlog_set_log_file(argv[i] + 11)) {
                ovs_fatal(0, "%s: cannot open", argv[i] + 11);
            }
            vlog_set_levels(NULL, VLF_FILE, VLL_WARN);
            vlog_set_levels(vlog_module_from_name("reconnect"), VLF_FILE,
                            VLL_INFO);
            vlog_set_levels(vlog_module_from_name("ovsdb_cs"), VLF_FILE,
                            VLL_INFO);
        } else {
            ovs_fatal(0, "unknown option %s", argv[i]);
        }
    }
    if (argc - i != 3) {
        ovs_fatal(0, "usage: %s [--private-key=F --certificate=F "
                  "--ca-cert=F] [--log-file=F] [--relay] REMOTE N OUT",
                  argv[0]);
    }
    n = strtoul(argv[i + 1], NULL, 10);
    if (!n || n > 100000) {
        ovs_fatal(0, "N: 1 to 100000");
    }
    if (key && cert && ca) {
        stream_ssl_set_key_and_cert(key, cert);
        stream_ssl_set_ca_cert_file(ca, false);
    }
    fatal_ignore_sigpipe();
    stop = xasprintf("%s.stop", argv[i + 2]);

    memset(&cfg, 0, sizeof cfg);
    cfg.remote = argv[i];
    cfg.remote_relay = relay;
    sims = xcalloc(n, sizeof *sims);
    for (size_t s = 0; s < n; s++) {
        char name[32];

        snprintf(name, sizeof name, "sim-%05"PRIuSIZE, s);
        cfg.chassis = name;
        sims[s].fleet = fs_fleet_create();
        sims[s].version = -1;
        fs_fleet_set_config(sims[s].fleet, &cfg);
    }

    for (;;) {
        long long int now = time_msec();

        for (size_t s = 0; s < n; s++) {
            struct sim *sim = &sims[s];
            const char *name;
            int64_t version;

            fs_fleet_run(sim->fleet);
            if (fs_fleet_policy(sim->fleet, &name, &version)
                && version != sim->version) {
                if (sim->n_seen == sim->allocated) {
                    sim->seen = x2nrealloc(sim->seen, &sim->allocated,
                                           sizeof *sim->seen);
                }
                sim->seen[sim->n_seen++] = (struct seen) {
                    version, time_wall_msec()
                };
                sim->version = version;
                fs_fleet_policy_applied(sim->fleet, version, true);
            }
        }
        if (now >= next_status) {
            write_status(argv[i + 2], sims, n);
            next_status = now + 100;
            if (!access(stop, F_OK)) {
                break;
            }
        }
        for (size_t s = 0; s < n; s++) {
            fs_fleet_wait(sims[s].fleet);
        }
        poll_timer_wait_until(next_status);
        poll_block();
    }
    write_seen(argv[i + 2], sims, n);
    return 0;
}
