/* The liveness tap.  See fs-live.h. */
#include <config.h>
#include "fs-live.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fs-topo.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_live);

struct fs_live {
    int fd;                     /* The tap, or -1. */
    long long int down_since;   /* Since when OVS sees it down (ms), or
                                 * LLONG_MAX. */
    unsigned int n_remade;      /* Times it was made again. */
    bool held_down;             /* fs_live_set_up(false). */
    bool is_up;                 /* As last set. */
    unsigned int n_downs;       /* Times held down. */
};

struct fs_live *
fs_live_create(void)
{
    struct fs_live *live = xzalloc(sizeof *live);

    live->fd = -1;
    live->down_since = LLONG_MAX;
    return live;
}

void
fs_live_destroy(struct fs_live *live)
{
    if (live) {
        if (live->fd >= 0) {
            close(live->fd);
        }
        free(live);
    }
}

/* Sets the IFF_UP flag of the tap to 'up'.  Returns 0 or an errno. */
static int
live_set_flag(bool up)
{
    struct ifreq ifr;
    int sock, error;

    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, FS_LIVE_PORT, sizeof ifr.ifr_name);
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    error = sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) ? errno : 0;
    if (!error && !!(ifr.ifr_flags & IFF_UP) != up) {
        ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
        error = ioctl(sock, SIOCSIFFLAGS, &ifr) ? errno : 0;
    }
    if (sock >= 0) {
        close(sock);
    }
    return error;
}

/* Creates the liveness tap and brings it up; returns its fd, or -1. */
static int
live_open(bool up)
{
    struct ifreq ifr;
    int fd, error;

    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        VLOG_WARN_ONCE("/dev/net/tun: %s: no fallback while flowsteerd "
                       "is down", ovs_strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    ovs_strlcpy(ifr.ifr_name, FS_LIVE_PORT, sizeof ifr.ifr_name);
    if (ioctl(fd, TUNSETIFF, &ifr)) {
        VLOG_WARN_ONCE("%s: cannot create the liveness tap: %s",
                       FS_LIVE_PORT, ovs_strerror(errno));
        close(fd);
        return -1;
    }
    error = up ? live_set_flag(true) : 0;
    if (error) {
        VLOG_WARN_ONCE("%s: cannot bring the liveness tap up: %s",
                       FS_LIVE_PORT, ovs_strerror(error));
        close(fd);
        return -1;
    }
    VLOG_INFO("%s: liveness tap created", FS_LIVE_PORT);
    return fd;
}

void
fs_live_run(struct fs_live *live, bool enabled, int64_t ofport,
            bool link_down)
{
    long long int now = time_msec();

    if (!enabled) {
        if (live->fd >= 0) {
            close(live->fd);
            live->fd = -1;
        }
        return;
    }
    if (live->fd < 0) {
        live->fd = live_open(!live->held_down);
        live->is_up = live->fd >= 0 && !live->held_down;
        live->down_since = LLONG_MAX;
        return;
    }
    if (!link_down || ofport <= 0 || live->held_down) {
        live->down_since = LLONG_MAX;
    } else if (live->down_since == LLONG_MAX) {
        live->down_since = now;
    } else if (now - live->down_since >= FS_LIVE_DOWN_MSEC) {
        VLOG_WARN("%s: Open vSwitch has seen the liveness tap down for %lld "
                  "ms: steered traffic bypasses the inspector; making the "
                  "tap again", FS_LIVE_PORT, now - live->down_since);
        close(live->fd);
        live->fd = live_open(true);
        live->down_since = LLONG_MAX;
        live->n_remade++;
    }
}

void
fs_live_set_up(struct fs_live *live, bool up)
{
    live->held_down = !up;
    /* Held down, it is checked each time: the watchdog brings the link
     * back up after a stall of the main loop. */
    if (live->fd >= 0 && (live->is_up != up || !up)) {
        int error = live_set_flag(up);

        if (error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            VLOG_WARN_RL(&rl, "%s: cannot take the liveness tap %s: %s",
                         FS_LIVE_PORT, up ? "up" : "down",
                         ovs_strerror(error));
            return;
        }
        if (live->is_up && !up) {
            live->n_downs++;
        }
        live->is_up = up;
        live->down_since = LLONG_MAX;
    }
}

void
fs_live_wait(const struct fs_live *live)
{
    if (live->down_since != LLONG_MAX) {
        poll_timer_wait_until(live->down_since + FS_LIVE_DOWN_MSEC);
    }
}

bool
fs_live_is_open(const struct fs_live *live)
{
    return live->fd >= 0;
}

void
fs_live_format(const struct fs_live *live, struct ds *ds)
{
    if (live->n_downs) {
        ds_put_format(ds, "  %s held down %u times (the inspector could not "
                      "judge packets)\n", FS_LIVE_PORT, live->n_downs);
    }
    if (live->n_remade) {
        ds_put_format(ds, "  %s made again %u times (Open vSwitch saw it "
                      "down)\n", FS_LIVE_PORT, live->n_remade);
    }
}
