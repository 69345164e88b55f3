/* flowsteerd's data path.  See fs-dp.h. */
#include <config.h>
#include "fs-dp.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowsteer/inspector.h"
#include "fs-port.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_dp);

#define RETRY_MS 1000

struct fs_dp {
    struct fs_inspector *insp;
    char *ifname;
    enum fs_mode mode;
    struct fs_port *port;
    int error;                  /* Last open error, 0 if none. */
    long long int next_retry;
    uint64_t untagged;          /* Packets without our tag: dropped. */
    uint64_t dropped;           /* By verdict. */
    uint64_t forwarded;
};

struct fs_dp *
fs_dp_create(struct fs_inspector *insp)
{
    struct fs_dp *dp = xzalloc(sizeof *dp);

    dp->insp = insp;
    return dp;
}

void
fs_dp_destroy(struct fs_dp *dp)
{
    if (dp) {
        fs_port_close(dp->port);
        free(dp->ifname);
        free(dp);
    }
}

static void
port_log(void *aux OVS_UNUSED, enum fs_port_log_level level,
         const char *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    vlog_rate_limit(&this_module, level == FS_PORT_LOG_ERR ? VLL_WARN
                    : level == FS_PORT_LOG_WARN ? VLL_WARN : VLL_INFO,
                    &rl, "%s", msg);
}

/* Brings interface 'name' up: OVS creates internal ports down. */
static void
ifup(const char *name)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0) {
        return;
    }
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (!ioctl(fd, SIOCGIFFLAGS, &ifr) && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
            VLOG_WARN("%s: cannot bring it up: %s", name,
                      ovs_strerror(errno));
        }
    }
    close(fd);
}

static void
fs_dp_open(struct fs_dp *dp)
{
    struct fs_port_options opts = FS_PORT_OPTIONS_INIT;
    int error;

    opts.ifname = dp->ifname;
    opts.log = port_log;
    ifup(dp->ifname);
    error = fs_port_open(&opts, &dp->port);
    if (error != dp->error) {
        if (error) {
            VLOG_WARN("%s: cannot open the inspector port: %s", dp->ifname,
                      ovs_strerror(error));
        } else {
            VLOG_INFO("%s: inspector port open", dp->ifname);
        }
    }
    dp->error = error;
    dp->next_retry = time_msec() + RETRY_MS;
}

void
fs_dp_set(struct fs_dp *dp, const char *ifname, enum fs_mode mode)
{
    dp->mode = mode;
    if (nullable_string_is_equal(ifname, dp->ifname)) {
        return;
    }
    fs_port_close(dp->port);
    dp->port = NULL;
    dp->error = 0;
    free(dp->ifname);
    dp->ifname = nullable_xstrdup(ifname);
    dp->next_retry = 0;
}

/* Hands one received burst to the inspector and, inline, sends back what
 * it passes.  Returns the number of packets received. */
static unsigned int
fs_dp_burst(struct fs_dp *dp)
{
    struct fs_pkt_ref pkts[FS_PORT_BURST], out[FS_PORT_BURST];
    unsigned int i, n, n_out = 0;

    n = fs_port_rx_burst(dp->port, pkts, FS_PORT_BURST);
    for (i = 0; i < n; i++) {
        const struct fs_pkt_ref *p = &pkts[i];
        struct fs_packet pkt;
        uint16_t tci;

        /* Our tag: 0x8100, then the original ingress port in the VID. */
        if (p->caplen < 18 || p->data[12] != 0x81 || p->data[13] != 0x00) {
            dp->untagged++;
            continue;
        }
        tci = p->data[14] << 8 | p->data[15];
        pkt.data = p->data;
        pkt.caplen = p->caplen;
        pkt.len = p->len;
        pkt.ts_ns = p->ts_ns;
        pkt.port = tci & 0xfff;
        pkt.link_type = FS_LINK_ETHERNET;
        if (fs_inspector_process(dp->insp, &pkt) == FS_PKT_DROP) {
            dp->dropped++;
        } else if (dp->mode == FS_MODE_INLINE) {
            out[n_out++] = *p;
        }
    }
    if (n_out) {
        dp->forwarded += fs_port_tx_burst(dp->port, out, n_out);
    }
    fs_port_rx_release(dp->port, n);
    return n;
}

void
fs_dp_run(struct fs_dp *dp)
{
    int i;

    if (!dp->ifname) {
        return;
    }
    if (!dp->port) {
        if (time_msec() >= dp->next_retry) {
            fs_dp_open(dp);
        }
        if (!dp->port) {
            return;
        }
    }
    /* Bounded, so the rest of the loop (OpenFlow, OVSDB) keeps up. */
    for (i = 0; i < 64; i++) {
        if (fs_dp_burst(dp) < FS_PORT_BURST) {
            break;
        }
    }
    fs_inspector_expire(dp->insp, time_wall_msec() * 1000000ULL);
}

void
fs_dp_wait(struct fs_dp *dp)
{
    if (dp->port) {
        poll_fd_wait(fs_port_fd(dp->port), POLLIN);
        poll_timer_wait(1000);  /* Idle expiry. */
    } else if (dp->ifname) {
        poll_timer_wait_until(dp->next_retry);
    }
}

void
fs_dp_format(const struct fs_dp *dp, struct ds *ds)
{
    struct fs_port_stats st;

    if (!dp->ifname) {
        return;
    }
    ds_put_format(ds, "inspector port %s: ", dp->ifname);
    if (!dp->port) {
        ds_put_format(ds, "not open (%s)\n", dp->error
                      ? ovs_strerror(dp->error) : "not yet");
        return;
    }
    fs_port_get_stats(dp->port, &st);
    ds_put_format(ds, "rx %"PRIu64" packets (%"PRIu64" dropped by the "
                  "kernel), tx %"PRIu64", dropped by verdict %"PRIu64
                  ", untagged %"PRIu64"\n", st.rx_packets, st.rx_dropped,
                  st.tx_packets, dp->dropped, dp->untagged);
}
