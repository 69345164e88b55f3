/*
 * fs-portfwd: forwards packets between two ports, both ways, in bursts:
 * the "bump in the wire" the inspector will be, without the inspection.
 *
 *   fs-portfwd [OPTIONS] IF_A IF_B
 *
 * Runs until SIGINT or SIGTERM (or --seconds), then prints each port's
 * counters, each direction's forwarded and dropped packets and the totals,
 * one "NAME: key=value ..." line each, on standard output.
 *
 * Busy: while packets flow it polls the rings without sleeping; once both
 * are empty it sleeps in poll() until one has packets (or 100 ms pass; 1 ms
 * with a poll-mode port, which has nothing to wait on).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs-port.h"

/* One direction of forwarding. */
struct fwd_dir {
    struct fs_port *src;
    struct fs_port *dst;
    uint64_t forwarded;         /* Consumed by dst's tx_burst. */
    uint64_t dropped;           /* Not consumed: dst's ring was full. */
    uint64_t csum_partial;      /* Seen with FS_PKT_CSUM_PARTIAL. */
};

static volatile sig_atomic_t stop;
static bool verbose;

static void
on_signal(int signo)
{
    stop = signo;
}

static void
usage(const char *prog)
{
    printf("%s: forward packets between two ports, both ways\n"
           "usage: %s [OPTIONS] IF_A IF_B\n"
           "  --backend=NAME        port backend (default afpacket; known:",
           prog, prog);
    for (size_t i = 0; fs_port_backend_name(i); i++) {
        printf(" %s", fs_port_backend_name(i));
    }
    printf(")\n"
           "  --seconds=N           stop after N seconds (default: at "
           "SIGINT/SIGTERM)\n"
           "  --ring-frames=N       frames per ring (default 1024)\n"
           "  --frame-size=N        bytes per frame (default 2048)\n"
           "  --tpacket-version=N   afpacket rings: 2 (default) or 3\n"
           "  --block-size=N        afpacket v3 receive block bytes "
           "(default 65536)\n"
           "  --block-timeout=MS    afpacket v3 receive block timeout "
           "(default 1)\n"
           "  --no-tx-ring          afpacket: transmit with sendmmsg()\n"
           "  --xdp-mode=MODE       afxdp: auto (default), generic, native "
           "or zerocopy\n"
           "  --dpdk-devargs=SPEC   dpdk: device to probe for IF_A; given "
           "again, for IF_B\n"
           "                        (e.g. net_ring0, "
           "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap)\n"
           "  --dpdk-eal-args=ARGS  dpdk: EAL arguments (required; \"\" "
           "for the defaults)\n"
           "  --dpdk-lcores=LIST    dpdk: EAL core list (default: the first "
           "CPU allowed)\n"
           "  --dpdk-mem=MB         dpdk: EAL memory (default: the EAL's)\n"
           "  -v, --verbose         print how the ports were set up\n"
           "  -h, --help            this help\n");
}

static void
log_cb(void *aux, enum fs_port_log_level level, const char *msg)
{
    const char *prog = aux;

    if (level == FS_PORT_LOG_ERR) {
        fprintf(stderr, "%s: %s\n", prog, msg);
    } else if (level == FS_PORT_LOG_WARN) {
        fprintf(stderr, "%s: warning: %s\n", prog, msg);
    } else if (verbose) {
        fprintf(stderr, "%s: %s\n", prog, msg);
    }
}

static unsigned int
parse_uint(const char *prog, const char *name, const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > UINT_MAX || s[0] == '-') {
        fprintf(stderr, "%s: --%s=%s: want a non-negative integer\n",
                prog, name, s);
        exit(2);
    }
    return v;
}

static unsigned int
parse_xdp_mode(const char *prog, const char *s)
{
    static const char *const names[] = {
        [FS_PORT_XDP_AUTO] = "auto",
        [FS_PORT_XDP_GENERIC] = "generic",
        [FS_PORT_XDP_NATIVE] = "native",
        [FS_PORT_XDP_ZEROCOPY] = "zerocopy",
    };

    for (unsigned int i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(s, names[i])) {
            return i;
        }
    }
    fprintf(stderr, "%s: --xdp-mode=%s: want auto, generic, native or "
            "zerocopy\n", prog, s);
    exit(2);
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Forwards one burst from d->src to d->dst and returns how many packets
 * were received. */
static unsigned int
forward_burst(struct fwd_dir *d)
{
    struct fs_pkt_ref pkts[FS_PORT_BURST];
    unsigned int n, sent;

    n = fs_port_rx_burst(d->src, pkts, FS_PORT_BURST);
    if (!n) {
        return 0;
    }
    for (unsigned int i = 0; i < n; i++) {
        if (pkts[i].flags & FS_PKT_CSUM_PARTIAL) {
            d->csum_partial++;
        }
    }
    sent = fs_port_tx_burst(d->dst, pkts, n);
    d->forwarded += sent;
    d->dropped += n - sent;
    fs_port_rx_release(d->src, n);
    return n;
}

static void
print_stats(struct fs_port *port)
{
    struct fs_port_stats s;

    fs_port_get_stats(port, &s);
    printf("%s: rx_packets=%" PRIu64 " rx_bytes=%" PRIu64
           " rx_dropped=%" PRIu64 " rx_errors=%" PRIu64
           " tx_packets=%" PRIu64 " tx_bytes=%" PRIu64
           " tx_dropped=%" PRIu64 " tx_errors=%" PRIu64
           " tx_busy=%" PRIu64 "\n",
           fs_port_ifname(port), s.rx_packets, s.rx_bytes, s.rx_dropped,
           s.rx_errors, s.tx_packets, s.tx_bytes, s.tx_dropped,
           s.tx_errors, s.tx_busy);
}

int
main(int argc, char *argv[])
{
    enum {
        OPT_BACKEND = 256, OPT_SECONDS, OPT_RING_FRAMES, OPT_FRAME_SIZE,
        OPT_BLOCK_SIZE, OPT_BLOCK_TIMEOUT, OPT_NO_TX_RING, OPT_TPACKET,
        OPT_XDP_MODE,
        OPT_DPDK_DEVARGS, OPT_DPDK_EAL_ARGS, OPT_DPDK_LCORES, OPT_DPDK_MEM,
    };
    static const struct option long_options[] = {
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"seconds", required_argument, NULL, OPT_SECONDS},
        {"ring-frames", required_argument, NULL, OPT_RING_FRAMES},
        {"frame-size", required_argument, NULL, OPT_FRAME_SIZE},
        {"block-size", required_argument, NULL, OPT_BLOCK_SIZE},
        {"block-timeout", required_argument, NULL, OPT_BLOCK_TIMEOUT},
        {"no-tx-ring", no_argument, NULL, OPT_NO_TX_RING},
        {"tpacket-version", required_argument, NULL, OPT_TPACKET},
        {"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
        {"dpdk-devargs", required_argument, NULL, OPT_DPDK_DEVARGS},
        {"dpdk-eal-args", required_argument, NULL, OPT_DPDK_EAL_ARGS},
        {"dpdk-lcores", required_argument, NULL, OPT_DPDK_LCORES},
        {"dpdk-mem", required_argument, NULL, OPT_DPDK_MEM},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct fs_port_options options = FS_PORT_OPTIONS_INIT;
    const char *prog = "fs-portfwd";
    struct fs_port *ports[2] = { NULL, NULL };
    const char *devargs[2] = { NULL, NULL };
    unsigned int n_devargs = 0;
    struct fwd_dir dirs[2];
    unsigned int seconds = 0;
    struct sigaction sa;
    double start, deadline, elapsed;
    double first = 0, last = 0;     /* First and last busy moments. */
    int c;

    while ((c = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_BACKEND:
            options.backend = optarg;
            break;
        case OPT_SECONDS:
            seconds = parse_uint(prog, "seconds", optarg);
            break;
        case OPT_RING_FRAMES:
            options.ring_frames = parse_uint(prog, "ring-frames", optarg);
            break;
        case OPT_FRAME_SIZE:
            options.frame_size = parse_uint(prog, "frame-size", optarg);
            break;
        case OPT_BLOCK_SIZE:
            options.block_size = parse_uint(prog, "block-size", optarg);
            break;
        case OPT_BLOCK_TIMEOUT:
            options.block_timeout_ms = parse_uint(prog, "block-timeout",
                                                  optarg);
            break;
        case OPT_NO_TX_RING:
            options.no_tx_ring = true;
            break;
        case OPT_TPACKET:
            options.tpacket_version = parse_uint(prog, "tpacket-version",
                                                 optarg);
            break;
        case OPT_XDP_MODE:
            options.xdp_mode = parse_xdp_mode(prog, optarg);
            break;
        case OPT_DPDK_DEVARGS:
            if (n_devargs >= 2) {
                fprintf(stderr, "%s: --dpdk-devargs: at most twice (IF_A, "
                        "IF_B)\n", prog);
                return 2;
            }
            devargs[n_devargs++] = optarg;
            break;
        case OPT_DPDK_EAL_ARGS:
            options.dpdk_eal_args = optarg;
            break;
        case OPT_DPDK_LCORES:
            options.dpdk_lcores = optarg;
            break;
        case OPT_DPDK_MEM:
            options.dpdk_mem_mb = parse_uint(prog, "dpdk-mem", optarg);
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage(prog);
            return 0;
        default:
            fprintf(stderr, "Try '%s --help'.\n", prog);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "%s: want two interfaces (try --help)\n", prog);
        return 2;
    }

    options.log = log_cb;
    options.log_aux = (void *) prog;
    for (int i = 0; i < 2; i++) {
        int error;

        options.ifname = argv[optind + i];
        options.dpdk_devargs = devargs[i];
        error = fs_port_open(&options, &ports[i]);
        if (error) {
            fprintf(stderr, "%s: cannot open port %s (backend %s): %s\n",
                    prog, options.ifname,
                    options.backend ? options.backend : "afpacket",
                    strerror(error));
            fs_port_close(ports[0]);
            return 1;
        }
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;  /* No SA_RESTART: poll() returns EINTR. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    memset(dirs, 0, sizeof dirs);
    dirs[0].src = dirs[1].dst = ports[0];
    dirs[0].dst = dirs[1].src = ports[1];

    printf("%s: forwarding %s <-> %s (backend %s)\n", prog,
           fs_port_ifname(ports[0]), fs_port_ifname(ports[1]),
           fs_port_backend(ports[0]));
    fflush(stdout);

    start = now_seconds();
    deadline = seconds ? start + seconds : 0;
    while (!stop) {
        unsigned int busy = forward_burst(&dirs[0]) + forward_burst(&dirs[1]);

        if (!busy) {
            struct pollfd pfds[2] = {
                { .fd = fs_port_fd(ports[0]), .events = POLLIN },
                { .fd = fs_port_fd(ports[1]), .events = POLLIN },
            };
            /* A poll-mode port has no descriptor (-1, which poll()
             * skips): look again after a millisecond. */
            int timeout = (fs_port_is_pmd(ports[0])
                           || fs_port_is_pmd(ports[1]) ? 1 : 100);

            if (deadline) {
                double left = deadline - now_seconds();
                if (left <= 0) {
                    break;
                }
                if (left * 1000 < timeout) {
                    timeout = left * 1000 + 1;
                }
            }
            if (poll(pfds, 2, timeout) < 0 && errno != EINTR) {
                fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
                break;
            }
        } else {
            last = now_seconds();
            if (!first) {
                first = last;
            }
            if (deadline && last >= deadline) {
                break;
            }
        }
    }
    elapsed = now_seconds() - start;

    for (int i = 0; i < 2; i++) {
        print_stats(ports[i]);
    }
    for (int i = 0; i < 2; i++) {
        struct fwd_dir *d = &dirs[i];
        printf("%s->%s: forwarded=%" PRIu64 " dropped=%" PRIu64
               " csum_partial=%" PRIu64 "\n",
               fs_port_ifname(d->src), fs_port_ifname(d->dst),
               d->forwarded, d->dropped, d->csum_partial);
    }
    /* "active": from the first to the last burst that found packets, for
     * a packets-per-second figure that leaves out idle time. */
    uint64_t total = dirs[0].forwarded + dirs[1].forwarded;
    printf("total: seconds=%.3f forwarded=%" PRIu64 " active_seconds=%.3f"
           " active_pps=%.0f\n", elapsed, total, last - first,
           last > first ? total / (last - first) : 0.0);
    for (int i = 0; i < 2; i++) {
        fs_port_close(ports[i]);
    }
    return 0;
}
