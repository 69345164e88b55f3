/* The watchdog.  See fs-watchdog.h. */
#include <config.h>
#include "fs-watchdog.h"

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_watchdog);

/* What the main loop and the child share. */
struct shared {
    atomic_llong heartbeat_ms;  /* CLOCK_MONOTONIC, of the last turn. */
    atomic_uint timeout_ms;     /* 0: off. */
    atomic_int tripped;         /* The child took the tap down. */
    atomic_llong stalled_since; /* Heartbeat when it did. */
    atomic_uint trips;
    char ifname[IFNAMSIZ];      /* Written while timeout_ms is 0. */
};

struct fs_watchdog {
    struct shared *sh;
    pid_t child;                /* 0 if none. */
    char ifname[IFNAMSIZ];
    unsigned int timeout_ms;
    unsigned int recoveries;
    long long int longest_stall;

    /* systemd's watchdog. */
    struct sockaddr_un notify_addr;
    socklen_t notify_len;       /* 0 if off. */
    long long int notify_interval;
    long long int next_notify;
    unsigned int notify_errors;
};

static long long int
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Brings interface 'name' up or down.  Returns 0 or an errno. */
static int
set_link(const char *name, bool up)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int error = 0;

    if (fd < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
        error = errno;
    } else if (!(ifr.ifr_flags & IFF_UP) != !up) {
        ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
            error = errno;
        }
    }
    close(fd);
    return error;
}

/* The child: takes the tap down when the heartbeat stops.  Never
 * returns. */
static void OVS_NO_RETURN
watch(struct shared *sh, pid_t parent)
{
    static const int signals[] = { SIGTERM, SIGINT, SIGHUP, SIGALRM,
                                   SIGPIPE };
    size_t i;

    /* flowsteerd's signal handlers run its exit hooks (its pidfile): not
     * the child's to run. */
    for (i = 0; i < sizeof signals / sizeof *signals; i++) {
        signal(signals[i], SIG_DFL);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "fs-watchdog");
    for (;;) {
        unsigned int timeout = atomic_load(&sh->timeout_ms);
        struct timespec tick = { 0, (timeout && timeout / 5 < 50
                                     ? timeout / 5 : 50) * 1000000L };
        char ifname[IFNAMSIZ];

        nanosleep(&tick, NULL);
        if (getppid() != parent) {
            _exit(0);
        }
        if (!timeout || atomic_load(&sh->tripped)) {
            continue;
        }
        memcpy(ifname, sh->ifname, sizeof ifname);
        ifname[IFNAMSIZ - 1] = '\0';
        long long int hb = atomic_load(&sh->heartbeat_ms);
        if (ifname[0] && mono_ms() - hb > timeout
            && !set_link(ifname, false)) {
            atomic_store(&sh->stalled_since, hb);
            atomic_fetch_add(&sh->trips, 1);
            atomic_store(&sh->tripped, 1);
        }
    }
}

/* Sets up systemd's watchdog from the environment, if it is on. */
static void
notify_init(struct fs_watchdog *w)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    const char *usec = getenv("WATCHDOG_USEC");
    long long int us = usec ? atoll(usec) : 0;
    size_t len = sock ? strlen(sock) : 0;

    if (!len || us <= 0 || len >= sizeof w->notify_addr.sun_path
        || (sock[0] != '/' && sock[0] != '@')) {
        return;
    }
    w->notify_addr.sun_family = AF_UNIX;
    memcpy(w->notify_addr.sun_path, sock, len);
    if (sock[0] == '@') {
        w->notify_addr.sun_path[0] = '\0';      /* Abstract. */
    }
    w->notify_len = offsetof(struct sockaddr_un, sun_path) + len;
    w->notify_interval = MAX(us / 2000, 1);
    VLOG_INFO("systemd watchdog: WATCHDOG=1 every %lld ms",
              w->notify_interval);
}

static void
notify_watchdog(struct fs_watchdog *w)
{
    static const char msg[] = "WATCHDOG=1";
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || sendto(fd, msg, sizeof msg - 1, MSG_NOSIGNAL,
                         (struct sockaddr *) &w->notify_addr,
                         w->notify_len) < 0) {
        w->notify_errors++;
    }
    if (fd >= 0) {
        close(fd);
    }
}

struct fs_watchdog *
fs_watchdog_create(void)
{
    struct fs_watchdog *w = xzalloc(sizeof *w);
    pid_t parent = getpid();

    w->sh = mmap(NULL, sizeof *w->sh, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w->sh == MAP_FAILED) {
        VLOG_WARN("watchdog: mmap: %s: off", ovs_strerror(errno));
        w->sh = NULL;
    } else {
        memset(w->sh, 0, sizeof *w->sh);
        atomic_store(&w->sh->heartbeat_ms, mono_ms());
        w->child = fork();
        if (!w->child) {
            watch(w->sh, parent);
        } else if (w->child < 0) {
            VLOG_WARN("watchdog: fork: %s: off", ovs_strerror(errno));
            w->child = 0;
        }
    }
    notify_init(w);
    return w;
}

void
fs_watchdog_destroy(struct fs_watchdog *w)
{
    if (!w) {
        return;
    }
    if (w->child) {
        kill(w->child, SIGKILL);
        waitpid(w->child, NULL, 0);
    }
    if (w->sh) {
        munmap(w->sh, sizeof *w->sh);
    }
    free(w);
}

void
fs_watchdog_set(struct fs_watchdog *w, const char *ifname,
                unsigned int timeout_ms)
{
    if (!w->sh || (nullable_string_is_equal(ifname, w->ifname[0] ? w->ifname
                                                                  : NULL)
                   && timeout_ms == w->timeout_ms)) {
        return;
    }
    atomic_store(&w->sh->timeout_ms, 0);
    memset(w->ifname, 0, sizeof w->ifname);
    if (ifname) {
        ovs_strlcpy(w->ifname, ifname, sizeof w->ifname);
    }
    memcpy(w->sh->ifname, w->ifname, sizeof w->ifname);
    atomic_store(&w->sh->heartbeat_ms, mono_ms());
    w->timeout_ms = ifname ? timeout_ms : 0;
    atomic_store(&w->sh->timeout_ms, w->timeout_ms);
}

void
fs_watchdog_run(struct fs_watchdog *w)
{
    long long int now = mono_ms();

    if (w->sh) {
        atomic_store(&w->sh->heartbeat_ms, now);
        if (atomic_load(&w->sh->tripped)) {
            long long int stall = now - atomic_load(&w->sh->stalled_since);
            int error = w->ifname[0] ? set_link(w->ifname, true) : 0;

            if (error) {
                VLOG_WARN("watchdog: %s: cannot bring it back up: %s",
                          w->ifname, ovs_strerror(error));
            }
            VLOG_WARN("the main loop stalled for %lld ms (more than %u): "
                      "%s was down, steered flows took the fail mode",
                      stall, w->timeout_ms, w->ifname);
            w->longest_stall = MAX(w->longest_stall, stall);
            w->recoveries++;
            atomic_store(&w->sh->tripped, 0);
        }
    }
    if (w->notify_len && now >= w->next_notify) {
        notify_watchdog(w);
        w->next_notify = now + w->notify_interval;
    }
}

void
fs_watchdog_wait(struct fs_watchdog *w)
{
    /* An idle loop must still turn often enough for the heartbeat. */
    if (w->timeout_ms) {
        poll_timer_wait(MAX(w->timeout_ms / 3, 1));
    }
    if (w->notify_len) {
        poll_timer_wait_until(w->next_notify);
    }
}

void
fs_watchdog_format(const struct fs_watchdog *w, struct ds *ds)
{
    if (!w->child) {
        ds_put_cstr(ds, "watchdog: off (no child process)\n");
    } else if (!w->timeout_ms) {
        ds_put_cstr(ds, "watchdog: off\n");
    } else {
        ds_put_format(ds, "watchdog: %s down after %u ms without a turn of "
                      "the main loop; %u stalls (longest %lld ms)\n",
                      w->ifname, w->timeout_ms,
                      atomic_load(&w->sh->trips), w->longest_stall);
    }
    if (w->notify_len) {
        ds_put_format(ds, "systemd watchdog: every %lld ms, %u errors\n",
                      w->notify_interval, w->notify_errors);
    }
}
