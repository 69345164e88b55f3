/*
 * fs-port-dpdk: the DPDK backend of the port interface ("dpdk").
 *
 * A port is one DPDK ethdev with one receive and one transmit queue,
 * polled by the thread that uses the port (poll mode: the class has no
 * file descriptor).  The device is a vdev probed from the options
 * (fs_port_options.dpdk_devargs: virtio_user to reach Open vSwitch through
 * a vhost-user socket, net_ring and net_pcap for tests) or an ethdev that
 * exists already, by name.
 *
 * The EAL.  DPDK's environment is process wide and can be set up only
 * once: the first dpdk port opened sets it up from its options (lcores,
 * memory, further arguments; see fs-port.h), and it stays up until the
 * process exits (the library never calls rte_eal_cleanup(), after which
 * DPDK cannot be used again).  Later ports check that they ask for the
 * same EAL.  If the EAL refuses to start (bad arguments, say), it cannot
 * be started again in this process: every later dpdk port fails with the
 * same error, until the process is restarted.  Unless the arguments say
 * "--no-huge", the EAL needs hugepages, and a system with none free fails
 * with ENOMEM and a message that says how to reserve them, rather than
 * with the EAL's own complaint.  What the EAL logs while a port is being
 * opened or closed goes to that port's log callback (level mapped from
 * the DPDK log level); what it logs at other times (from its own threads,
 * say) is dropped.  One exception to "never prints": on arguments it does
 * not know, the EAL prints its usage on standard output itself.
 *
 * Sizes.  'ring_frames' (R, default 1024) asks for R receive and R transmit
 * descriptors, adjusted to what the device allows.  Each port has its own
 * pool of
 *
 *     nb_rxd + nb_txd + 2 * FS_PORT_BURST mbufs
 *
 * (a full receive ring, a full transmit ring of another port that
 * forwards this port's packets without copying, a burst held by the
 * caller and a burst being copied), with a per-lcore cache of
 * FS_PORT_BURST, each of 'frame_size' bytes of data room (default 2048,
 * RTE_PKTMBUF_HEADROOM of them headroom).
 *
 * Receive.  fs_port_rx_burst() takes mbufs from the device in bursts of
 * FS_PORT_BURST, prefetching each packet's first bytes a few packets
 * ahead, and holds them until they are released (fs_port_rx_release(),
 * the next receive, or close), when they are freed explicitly.  Each
 * fs_pkt_ref's 'handle' is its rte_mbuf.  A chained mbuf (scattered
 * receive) is returned truncated to its first segment (caplen < len,
 * counted in rx_errors).  No receive timestamp (ts_ns is 0).
 *
 * Transmit.  Each packet becomes one mbuf: the received mbuf itself (zero
 * copy, one more reference: rte_mbuf_refcnt_update()) when the packet was
 * received by a dpdk port and 'data' and 'len' still describe that mbuf
 * as received, or else a fresh mbuf from this port's pool with the bytes
 * copied in.  The mbufs are staged in a burst buffer on the stack and
 * handed to the device with one rte_eth_tx_burst() per FS_PORT_BURST
 * packets; what the device does not take is freed at once (for a zero
 * copy packet, that drops only the reference taken) and reported as not
 * consumed, as fs-port.h says.  Nothing stays buffered between calls.
 *
 * Out of mbufs: policy "drop, counted".  A packet to copy that finds the
 * pool empty is dropped (consumed, counted in tx_dropped): waiting would
 * stall the caller's loop, and the pool refills only as the device sends.
 * A device that cannot refill its receive ring drops on its side and
 * counts rx_nombuf, reported in rx_dropped.
 *
 * Counters: rx/tx packets and bytes as returned and as handed to the
 * device; rx_dropped is the device's imissed + rx_nombuf, rx_errors its
 * ierrors plus truncated packets, tx_dropped ours (too long, truncated,
 * no mbuf), tx_errors the device's oerrors.  The device's counters are
 * reset when the port opens.
 *
 * fs_port_check() reports ENETDOWN while the device's link is down
 * (rte_eth_link_get_nowait(); a vhost-user peer that went away is one),
 * ENODEV if the device went away.
 *
 * Close stops and closes the ethdev, removes the device if this port
 * probed it, and frees the pool, unless some of its mbufs are still out
 * (sent by reference on a port that has not sent them yet, or in a ring
 * device's ring): then the pool is left allocated, with a warning, rather
 * than freed under them.
 *
 * Only stable DPDK APIs are used (no ALLOW_EXPERIMENTAL_API).
 */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* For fopencookie(), sched_getaffinity(). */
#endif

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_version.h>

#include "fs-port-provider.h"

/* LeakSanitizer does not scan DPDK's memory (hugepages mapped by the EAL):
 * what only DPDK's structures point to would look leaked.  Sanitizer
 * builds register that memory as root regions. */
#if defined(__SANITIZE_ADDRESS__)
#define FS_PORT_DPDK_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FS_PORT_DPDK_LSAN 1
#endif
#endif
#ifdef FS_PORT_DPDK_LSAN
#include <rte_memory.h>
#include <sanitizer/lsan_interface.h>

static int
lsan_add_memseg_list(const struct rte_memseg_list *msl,
                     void *aux __attribute__((unused)))
{
    if (msl->base_va && msl->len) {
        __lsan_register_root_region(msl->base_va, msl->len);
    }
    return 0;
}
#endif

/* Bounds on the options. */
#define MIN_FRAME_SIZE 256
#define MAX_FRAME_SIZE 65520    /* The mbuf's data room is 16 bits. */
#define MAX_RING_FRAMES (1u << 20)
#define MAX_EAL_ARGS 64

/* Prefetch the packet this many ahead of the one being filled in. */
#define PREFETCH_OFFSET 3

#define ETH_HEADER_LEN 14
#define VLAN_HEADER_LEN 4

struct dpdk_port {
    struct fs_port up;
    uint16_t port_id;
    bool probed;                /* We probed the device: remove on close. */
    bool owner;                 /* The ethdev is ours ('port_open'). */
    char dev_name[RTE_ETH_NAME_MAX_LEN]; /* The ethdev's name. */
    struct rte_mempool *pool;
    uint32_t mtu;
    uint32_t max_tx_len;
    fs_port_log_cb *log;
    void *log_aux;

    /* Receive: the mbufs returned by the last rx_burst, of which those
     * from 'rx_rel' to 'rx_n' are still held. */
    struct {
        unsigned int rx_cap;    /* Size of 'rx_held'. */
        unsigned int rx_n;
        unsigned int rx_rel;
        struct rte_mbuf **rx_held;
        uint64_t rx_packets;
        uint64_t rx_bytes;
        uint64_t rx_truncated;
    } __rte_cache_aligned;

    /* Transmit. */
    struct {
        uint64_t tx_packets;
        uint64_t tx_bytes;
        uint64_t tx_dropped;    /* Too long, truncated, or no mbuf. */
        uint64_t tx_nombuf;     /* Of those, no mbuf. */
        uint64_t tx_zero_copy;  /* Sent by reference. */
    } __rte_cache_aligned;
};

static struct dpdk_port *
dpdk_cast(const struct fs_port *port)
{
    return (struct dpdk_port *) port;
}

/* Process-wide state, under 'dpdk_mutex'. */
static pthread_mutex_t dpdk_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool eal_up;
static int eal_error;           /* rte_eal_init() failed with this. */
static char *eal_lcores;        /* What the EAL was set up with. */
static unsigned int eal_mem_mb;
static char *eal_extra;
static unsigned int n_pools;    /* For unique pool names. */
static bool port_open[RTE_MAX_ETHPORTS];

/* The EAL's log, to the log callback of the open or close in progress in
 * 'eal_log_thread'; what other threads log is dropped.  The FILE's own
 * lock serializes calls to eal_log_write(). */
static const struct fs_port_options *eal_log_to;
static pthread_t eal_log_thread;
static char eal_log_line[512];
static size_t eal_log_len;

static ssize_t
eal_log_write(void *cookie, const char *buf, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (buf[i] != '\n' && eal_log_len < sizeof eal_log_line - 1) {
            eal_log_line[eal_log_len++] = buf[i];
        }
        if (buf[i] == '\n') {
            int level = rte_log_cur_msg_loglevel();

            eal_log_line[eal_log_len] = '\0';
            if (eal_log_to && eal_log_len
                && pthread_equal(pthread_self(), eal_log_thread)) {
                fs_port_log(eal_log_to,
                            (level <= (int) RTE_LOG_ERR ? FS_PORT_LOG_ERR
                             : level == (int) RTE_LOG_WARNING
                             ? FS_PORT_LOG_WARN : FS_PORT_LOG_INFO),
                            "dpdk: %s", eal_log_line);
            }
            eal_log_len = 0;
        }
    }
    return size;
}

/* EAL setup. */

static bool
same_str(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* Returns the number of free hugepages of every size. */
static unsigned long
free_hugepages(void)
{
    unsigned long total = 0;
    glob_t g;

    if (glob("/sys/kernel/mm/hugepages/hugepages-*/free_hugepages", 0,
             NULL, &g)) {
        return 0;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        unsigned long n;

        if (f) {
            if (fscanf(f, "%lu", &n) == 1) {
                total += n;
            }
            fclose(f);
        }
    }
    globfree(&g);
    return total;
}

/* The default "-l": the first CPU this thread may run on. */
static void
default_lcores(char *buf, size_t size)
{
    cpu_set_t set;
    int cpu = 0;

    if (!sched_getaffinity(0, sizeof set, &set)) {
        for (int i = 0; i < CPU_SETSIZE; i++) {
            if (CPU_ISSET(i, &set)) {
                cpu = i;
                break;
            }
        }
    }
    snprintf(buf, size, "%d", cpu);
}

/* Builds the EAL's argv in 'argv' from 'o', with 'words' holding a copy of
 * the extra arguments that 'argv' points into.  Returns argc, or -1 if
 * there are too many. */
static int
eal_build_argv(const struct fs_port_options *o, char *words,
               char *lcores_buf, char *mem_buf, char *argv[])
{
    int argc = 0;

    argv[argc++] = "flowsteer";
    argv[argc++] = "-l";
    argv[argc++] = lcores_buf;
    if (o->dpdk_mem_mb) {
        argv[argc++] = "-m";
        argv[argc++] = mem_buf;
    }
    for (char *save = NULL, *w = strtok_r(words, " \t\n", &save); w;
         w = strtok_r(NULL, " \t\n", &save)) {
        if (argc >= MAX_EAL_ARGS) {
            return -1;
        }
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    return argc;
}

/* Checks that a later port asks for the EAL that is up. */
static int
eal_check_same(const struct fs_port_options *o)
{
    if ((o->dpdk_lcores && !same_str(o->dpdk_lcores, eal_lcores))
        || (o->dpdk_mem_mb && o->dpdk_mem_mb != eal_mem_mb)
        || (o->dpdk_eal_args && !same_str(o->dpdk_eal_args, eal_extra))) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: the DPDK EAL is already set up "
                    "(-l %s, -m %u, \"%s\") and cannot be set up again with "
                    "other arguments in the same process", o->ifname,
                    eal_lcores, eal_mem_mb, eal_extra);
        return EINVAL;
    }
    return 0;
}

/* Sets up the EAL from 'o' the first time; later, checks 'o' against it.
 * Called with 'dpdk_mutex' held. */
static int
eal_init_once(const struct fs_port_options *o)
{
    char *argv[MAX_EAL_ARGS + 1];
    char lcores[64], mem[16];
    char *words;
    int argc;

    if (eal_up) {
        return eal_check_same(o);
    }
    if (eal_error) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: the DPDK EAL failed to start "
                    "earlier in this process (%s) and cannot be started "
                    "again: restart the process with other EAL arguments",
                    o->ifname, rte_strerror(eal_error));
        return eal_error;
    }
    if (!o->dpdk_eal_args) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: the DPDK EAL is not set up yet "
                    "and no EAL arguments were given (dpdk_eal_args; \"\" "
                    "for the EAL's defaults, e.g. \"--in-memory\")",
                    o->ifname);
        return EINVAL;
    }
    if (o->dpdk_lcores) {
        snprintf(lcores, sizeof lcores, "%s", o->dpdk_lcores);
    } else {
        default_lcores(lcores, sizeof lcores);
    }
    snprintf(mem, sizeof mem, "%u", o->dpdk_mem_mb);

    words = strdup(o->dpdk_eal_args);
    if (!words) {
        return ENOMEM;
    }
    argc = eal_build_argv(o, words, lcores, mem, argv);
    if (argc < 0) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: more than %d DPDK EAL "
                    "arguments", o->ifname, MAX_EAL_ARGS);
        free(words);
        return EINVAL;
    }

    bool no_huge = false;
    for (int i = 1; i < argc; i++) {
        no_huge = no_huge || !strcmp(argv[i], "--no-huge");
    }
    if (!no_huge && !free_hugepages()) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: DPDK needs hugepages and the "
                    "system has none free (see /sys/kernel/mm/hugepages): "
                    "reserve some (e.g. sysctl vm.nr_hugepages=512) or pass "
                    "\"--no-huge\" in the EAL arguments", o->ifname);
        free(words);
        return ENOMEM;
    }

    /* The EAL may permute argv: it is ours. */
    if (rte_eal_init(argc, argv) < 0) {
        int error = rte_errno;

        fs_port_log(o, FS_PORT_LOG_ERR, "%s: the DPDK EAL would not start "
                    "(-l %s -m %s \"%s\"): %s", o->ifname, lcores,
                    o->dpdk_mem_mb ? mem : "default", o->dpdk_eal_args,
                    rte_strerror(error));
        free(words);
        /* The EAL's own errors are EINVAL (bad arguments), ENOMEM, EALREADY
         * (set up by someone else) and the like: as they are, positive.
         * It keeps some of what it parsed, so a second try fails
         * anyway. */
        eal_error = error > 0 ? error : EINVAL;
        return eal_error;
    }
    free(words);
    eal_lcores = strdup(lcores);
    eal_mem_mb = o->dpdk_mem_mb;
    eal_extra = strdup(o->dpdk_eal_args);
    eal_up = true;
#ifdef FS_PORT_DPDK_LSAN
    rte_memseg_list_walk(lsan_add_memseg_list, NULL);
#endif
    fs_port_log(o, FS_PORT_LOG_INFO, "%s: DPDK EAL up: %s, lcores %s, "
                "memory %s MB, \"%s\"", o->ifname, rte_version(), lcores,
                o->dpdk_mem_mb ? mem : "default", o->dpdk_eal_args);
    return 0;
}

/* Port setup. */

static int
dpdk_check_options(struct fs_port_options *o)
{
    if (o->tpacket_version || o->block_size || o->block_timeout_ms
        || o->no_tx_ring || o->xdp_mode) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: tpacket_version, block_size, "
                    "block_timeout_ms, no_tx_ring and xdp_mode are not for "
                    "the dpdk backend", o->ifname);
        return EINVAL;
    }
    if (!o->ring_frames) {
        o->ring_frames = 1024;
    }
    if (!o->frame_size) {
        o->frame_size = 2048;
    }
    if (o->ring_frames < 2 || o->ring_frames > MAX_RING_FRAMES) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: ring_frames=%u: want 2 to %u",
                    o->ifname, o->ring_frames, MAX_RING_FRAMES);
        return EINVAL;
    }
    if (o->frame_size < MIN_FRAME_SIZE || o->frame_size > MAX_FRAME_SIZE
        || o->frame_size % 16) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: frame_size=%u: want a multiple "
                    "of 16 from %d to %d", o->ifname, o->frame_size,
                    MIN_FRAME_SIZE, MAX_FRAME_SIZE);
        return EINVAL;
    }
    if (o->dpdk_devargs && !o->dpdk_devargs[0]) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: empty dpdk_devargs", o->ifname);
        return EINVAL;
    }
    return 0;
}

/* Finds the ethdev for 'o', probing 'dpdk_devargs' first if set. */
static int
dpdk_find_device(struct dpdk_port *p, const struct fs_port_options *o)
{
    char *name = p->dev_name;
    const size_t name_size = sizeof p->dev_name;
    const char *devargs = o->dpdk_devargs;

    if (devargs) {
        size_t len = strcspn(devargs, ",");
        int r;

        if (len >= name_size) {
            fs_port_log(o, FS_PORT_LOG_ERR, "%s: device name too long in "
                        "\"%s\"", o->ifname, devargs);
            return EINVAL;
        }
        memcpy(name, devargs, len);
        name[len] = '\0';

        r = rte_dev_probe(devargs);
        if (r == -EEXIST) {
            /* Probed before, by the EAL's arguments or the program. */
        } else if (r < 0) {
            /* The EAL has logged why; its error codes say little (EFAULT
             * for an unknown driver, EPERM for arguments the driver
             * refuses). */
            fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot probe DPDK device "
                        "\"%s\" (%s): unknown driver or bad device "
                        "arguments", o->ifname, devargs, rte_strerror(-r));
            return ENODEV;
        } else {
            p->probed = true;
        }
    } else {
        snprintf(name, name_size, "%s", o->ifname);
    }

    if (rte_eth_dev_get_port_by_name(name, &p->port_id)) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: no DPDK ethdev \"%s\"%s",
                    o->ifname, name,
                    devargs ? " after probing it (not a network device?)"
                    : " (give dpdk_devargs to probe one)");
        return ENODEV;
    }
    if (port_open[p->port_id]) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: DPDK ethdev \"%s\" is already "
                    "open as another port", o->ifname, name);
        p->probed = false;      /* Not ours to remove. */
        return EBUSY;
    }
    port_open[p->port_id] = true;
    p->owner = true;
    return 0;
}

/* Configures one receive and one transmit queue and the mbuf pool, and
 * starts the device. */
static int
dpdk_setup_device(struct dpdk_port *p, const struct fs_port_options *o)
{
    struct rte_eth_conf conf;
    uint16_t nb_rxd = o->ring_frames > UINT16_MAX ? UINT16_MAX
                      : o->ring_frames;
    uint16_t nb_txd = nb_rxd;
    int socket = rte_eth_dev_socket_id(p->port_id);
    char pool_name[RTE_MEMPOOL_NAMESIZE];
    unsigned int n_mbufs;
    uint16_t mtu;
    int r;

    if (socket < 0) {
        socket = (int) rte_socket_id();
    }
    memset(&conf, 0, sizeof conf);
    r = rte_eth_dev_configure(p->port_id, 1, 1, &conf);
    if (!r) {
        r = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
    }
    if (r) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot configure the DPDK "
                    "device: %s", o->ifname, rte_strerror(-r));
        return -r;
    }

    n_mbufs = nb_rxd + nb_txd + 2 * FS_PORT_BURST;
    snprintf(pool_name, sizeof pool_name, "fsport%u", n_pools++);
    p->pool = rte_pktmbuf_pool_create(pool_name, n_mbufs, FS_PORT_BURST, 0,
                                      o->frame_size, socket);
    if (!p->pool) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot create a pool of %u "
                    "mbufs of %u bytes: %s", o->ifname, n_mbufs,
                    o->frame_size, rte_strerror(rte_errno));
        return ENOMEM;
    }

    r = rte_eth_rx_queue_setup(p->port_id, 0, nb_rxd, socket, NULL, p->pool);
    if (!r) {
        r = rte_eth_tx_queue_setup(p->port_id, 0, nb_txd, socket, NULL);
    }
    if (r) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot set up the DPDK queues "
                    "(%u receive and %u transmit descriptors): %s",
                    o->ifname, nb_rxd, nb_txd, rte_strerror(-r));
        return -r;
    }

    r = rte_eth_promiscuous_enable(p->port_id);
    if (r && r != -ENOTSUP) {
        fs_port_log(o, FS_PORT_LOG_WARN, "%s: cannot make the DPDK device "
                    "promiscuous: %s", o->ifname, rte_strerror(-r));
    }
    r = rte_eth_dev_start(p->port_id);
    if (r) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot start the DPDK device: "
                    "%s", o->ifname, rte_strerror(-r));
        return -r;
    }
    rte_eth_stats_reset(p->port_id);

    if (rte_eth_dev_get_mtu(p->port_id, &mtu)) {
        mtu = 1500;
    }
    p->mtu = mtu;
    p->max_tx_len = o->frame_size - RTE_PKTMBUF_HEADROOM;
    if (p->max_tx_len > mtu + ETH_HEADER_LEN + VLAN_HEADER_LEN) {
        p->max_tx_len = mtu + ETH_HEADER_LEN + VLAN_HEADER_LEN;
    }
    p->rx_cap = nb_rxd > FS_PORT_BURST ? nb_rxd : FS_PORT_BURST;
    p->rx_held = rte_zmalloc_socket("fs_port_dpdk_rx",
                                    p->rx_cap * sizeof *p->rx_held,
                                    RTE_CACHE_LINE_SIZE, socket);
    if (!p->rx_held) {
        return ENOMEM;
    }
    fs_port_log(o, FS_PORT_LOG_INFO, "%s: dpdk port %u (%s): %u receive and "
                "%u transmit descriptors, %u mbufs of %u bytes, MTU %u",
                o->ifname, p->port_id, o->dpdk_devargs ? o->dpdk_devargs
                : o->ifname, nb_rxd, nb_txd, n_mbufs, o->frame_size, mtu);
    return 0;
}

static void dpdk_close_locked(struct dpdk_port *,
                              const struct fs_port_options *);

static int
dpdk_open(const struct fs_port_options *options, struct fs_port **portp)
{
    struct fs_port_options o = *options;
    struct dpdk_port *p;
    int error;

    error = dpdk_check_options(&o);
    if (error) {
        return error;
    }

    pthread_mutex_lock(&dpdk_mutex);
    eal_log_thread = pthread_self();
    eal_log_to = &o;
    if (!eal_up) {
        static FILE *stream;
        static const cookie_io_functions_t io = { .write = eal_log_write };

        if (!stream) {
            stream = fopencookie(NULL, "w", io);
            if (stream) {
                setvbuf(stream, NULL, _IOLBF, 0);
                rte_openlog_stream(stream);
            }
        }
    }
    error = eal_init_once(&o);
    if (error) {
        goto out;
    }

    p = rte_zmalloc("fs_port_dpdk", sizeof *p, RTE_CACHE_LINE_SIZE);
    if (!p) {
        error = ENOMEM;
        goto out;
    }
    fs_port_init(&p->up, &fs_port_dpdk_class, o.ifname);
    p->port_id = RTE_MAX_ETHPORTS;
    p->log = o.log;
    p->log_aux = o.log_aux;

    error = dpdk_find_device(p, &o);
    if (!error) {
        error = dpdk_setup_device(p, &o);
    }
    if (error) {
        dpdk_close_locked(p, &o);
    } else {
        *portp = &p->up;
    }

out:
    eal_log_to = NULL;
    pthread_mutex_unlock(&dpdk_mutex);
    return error;
}

/* Frees the pool unless mbufs from it are still out (in another port's
 * transmit ring, or in a ring device's ring): then it is left behind, with
 * a warning, rather than freed under them. */
static void
dpdk_free_pool(struct dpdk_port *p, const struct fs_port_options *o)
{
    if (!p->pool) {
        return;
    }
    if (rte_mempool_full(p->pool)) {
        rte_mempool_free(p->pool);
    } else {
        fs_port_log(o, FS_PORT_LOG_WARN, "%s: %u mbufs of this port are "
                    "still in use elsewhere: leaving its pool \"%s\" "
                    "allocated", p->up.ifname,
                    p->pool->size - rte_mempool_avail_count(p->pool),
                    p->pool->name);
    }
}

static void
dpdk_close_locked(struct dpdk_port *p, const struct fs_port_options *o)
{
    if (p->owner) {
        fs_port_log(o, FS_PORT_LOG_INFO, "%s: closing: transmitted %"PRIu64
                    " packets, %"PRIu64" of them zero copy; %"PRIu64" copies "
                    "found no mbuf", p->up.ifname, p->tx_packets,
                    p->tx_zero_copy, p->tx_nombuf);
    }
    if (p->rx_n > p->rx_rel) {
        rte_pktmbuf_free_bulk(p->rx_held + p->rx_rel, p->rx_n - p->rx_rel);
    }
    if (p->owner) {
        struct rte_eth_dev_info info;
        struct rte_device *dev = NULL;

        if (!rte_eth_dev_info_get(p->port_id, &info)) {
            dev = info.device;
        }
        rte_eth_dev_stop(p->port_id);
        rte_eth_dev_close(p->port_id);
        if (p->probed && dev) {
            int r = rte_dev_remove(dev);
            if (r) {
                fs_port_log(o, FS_PORT_LOG_WARN, "%s: cannot remove the "
                            "DPDK device: %s", p->up.ifname,
                            rte_strerror(-r));
            }
        }
        port_open[p->port_id] = false;
    } else if (p->probed) {
        /* Probed, but it made no ethdev. */
        rte_eal_hotplug_remove("vdev", p->dev_name);
    }
    dpdk_free_pool(p, o);
    rte_free(p->rx_held);
    rte_free(p);
}

static void
dpdk_close(struct fs_port *port)
{
    struct dpdk_port *p = dpdk_cast(port);
    struct fs_port_options o = FS_PORT_OPTIONS_INIT;

    o.ifname = port->ifname;
    o.log = p->log;
    o.log_aux = p->log_aux;
    pthread_mutex_lock(&dpdk_mutex);
    eal_log_thread = pthread_self();
    eal_log_to = &o;
    dpdk_close_locked(p, &o);
    eal_log_to = NULL;
    pthread_mutex_unlock(&dpdk_mutex);
}

/* Receive. */

static void
dpdk_rx_release(struct fs_port *port, unsigned int n)
{
    struct dpdk_port *p = dpdk_cast(port);
    unsigned int held = p->rx_n - p->rx_rel;

    if (n > held) {
        n = held;
    }
    if (n) {
        rte_pktmbuf_free_bulk(p->rx_held + p->rx_rel, n);
        p->rx_rel += n;
    }
}

static void
dpdk_rx_fill(struct dpdk_port *p, struct rte_mbuf *m, struct fs_pkt_ref *pkt)
{
    pkt->data = rte_pktmbuf_mtod(m, uint8_t *);
    pkt->len = rte_pktmbuf_pkt_len(m);
    pkt->caplen = rte_pktmbuf_data_len(m);
    pkt->ts_ns = 0;
    pkt->flags = 0;
    pkt->port = &p->up;
    pkt->handle = m;
    p->rx_bytes += pkt->len;
    if (pkt->caplen < pkt->len) {
        p->rx_truncated++;
    }
}

static unsigned int
dpdk_rx_burst(struct fs_port *port, struct fs_pkt_ref pkts[], unsigned int n)
{
    struct dpdk_port *p = dpdk_cast(port);
    struct rte_mbuf **held = p->rx_held;
    unsigned int count = 0;

    dpdk_rx_release(port, UINT_MAX);
    p->rx_n = p->rx_rel = 0;
    if (n > p->rx_cap) {
        n = p->rx_cap;
    }
    while (count < n) {
        uint16_t want = n - count < FS_PORT_BURST ? n - count : FS_PORT_BURST;
        uint16_t got = rte_eth_rx_burst(p->port_id, 0, held + count, want);
        unsigned int end = count + got;
        unsigned int i;

        for (i = count; i < end && i < count + PREFETCH_OFFSET; i++) {
            rte_prefetch0(rte_pktmbuf_mtod(held[i], void *));
        }
        for (i = count; i < end; i++) {
            if (i + PREFETCH_OFFSET < end) {
                rte_prefetch0(rte_pktmbuf_mtod(held[i + PREFETCH_OFFSET],
                                               void *));
            }
            dpdk_rx_fill(p, held[i], &pkts[i]);
        }
        count = end;
        if (got < want) {
            break;
        }
    }
    p->rx_n = count;
    p->rx_packets += count;
    return count;
}

/* Transmit. */

/* Returns the mbuf that carries 'pkt' without copying, with a reference
 * taken, or NULL if it must be copied. */
static struct rte_mbuf *
dpdk_tx_ref(const struct fs_pkt_ref *pkt)
{
    struct rte_mbuf *m = pkt->handle;

    if (!m || !pkt->port || pkt->port->class != &fs_port_dpdk_class
        || m->nb_segs != 1 || pkt->data != rte_pktmbuf_mtod(m, uint8_t *)
        || pkt->len != rte_pktmbuf_pkt_len(m)) {
        return NULL;
    }
    rte_mbuf_refcnt_update(m, 1);
    return m;
}

/* Why dpdk_tx_prepare() gave no mbuf. */
enum tx_drop {
    TX_KEPT,                    /* It did. */
    TX_DROP_BAD,                /* Not sendable (fs_port_tx_ok()). */
    TX_DROP_NOMBUF,             /* The pool is empty. */
};

static void
dpdk_count_drop(struct dpdk_port *p, enum tx_drop why, int delta)
{
    if (why != TX_KEPT) {
        p->tx_dropped += delta;
        p->tx_nombuf += why == TX_DROP_NOMBUF ? delta : 0;
    }
}

/* Returns an mbuf carrying 'pkt' (by reference or a copy), or NULL if it
 * is dropped, with the reason in '*why' (counted): not sendable, or no
 * mbuf for the copy. */
static struct rte_mbuf *
dpdk_tx_prepare(struct dpdk_port *p, const struct fs_pkt_ref *pkt,
                uint8_t *why)
{
    struct rte_mbuf *m;

    *why = TX_KEPT;
    if (!fs_port_tx_ok(pkt, p->mtu, p->max_tx_len)) {
        *why = TX_DROP_BAD;
        dpdk_count_drop(p, *why, 1);
        return NULL;
    }
    m = dpdk_tx_ref(pkt);
    if (m) {
        p->tx_zero_copy++;
        return m;
    }
    m = rte_pktmbuf_alloc(p->pool);
    if (!m) {
        *why = TX_DROP_NOMBUF;  /* Policy: drop, counted. */
        dpdk_count_drop(p, *why, 1);
        return NULL;
    }
    memcpy(rte_pktmbuf_append(m, pkt->len), pkt->data, pkt->len);
    return m;
}

/* Sends up to FS_PORT_BURST of pkts[0 .. n-1] with one rte_eth_tx_burst()
 * and stores in '*consumed' how many of them were consumed.  Returns true
 * if all of them were. */
static bool
dpdk_tx_chunk(struct dpdk_port *p, const struct fs_pkt_ref pkts[],
              unsigned int n, unsigned int *consumed)
{
    struct rte_mbuf *mbufs[FS_PORT_BURST];
    uint8_t src[FS_PORT_BURST];          /* Index in 'pkts' of mbufs[i]. */
    uint8_t dropped[FS_PORT_BURST];      /* Why pkts[i] was dropped. */
    unsigned int k = 0, sent;

    if (n > FS_PORT_BURST) {
        n = FS_PORT_BURST;
    }
    for (unsigned int i = 0; i < n; i++) {
        struct rte_mbuf *m = dpdk_tx_prepare(p, &pkts[i], &dropped[i]);

        if (m) {
            mbufs[k] = m;
            src[k++] = i;
        }
    }
    sent = k ? rte_eth_tx_burst(p->port_id, 0, mbufs, k) : 0;
    for (unsigned int i = 0; i < sent; i++) {
        p->tx_bytes += rte_pktmbuf_pkt_len(mbufs[i]);
    }
    p->tx_packets += sent;
    if (sent == k) {
        *consumed = n;
        return true;
    }

    /* The device is full: pkts[src[sent]] on are not consumed.  Give back
     * their mbufs (or references), and take back the drops among them,
     * which the caller may offer again. */
    *consumed = src[sent];
    rte_pktmbuf_free_bulk(mbufs + sent, k - sent);
    for (unsigned int i = src[sent]; i < n; i++) {
        dpdk_count_drop(p, dropped[i], -1);
    }
    for (unsigned int i = sent; i < k; i++) {
        p->tx_zero_copy -= pkts[src[i]].handle == mbufs[i];
    }
    return false;
}

static unsigned int
dpdk_tx_burst(struct fs_port *port, const struct fs_pkt_ref pkts[],
              unsigned int n)
{
    struct dpdk_port *p = dpdk_cast(port);
    unsigned int i = 0;

    while (i < n) {
        unsigned int consumed;
        bool all = dpdk_tx_chunk(p, pkts + i, n - i, &consumed);

        i += consumed;
        if (!all) {
            break;
        }
    }
    return i;
}

static uint32_t
dpdk_max_tx_len(const struct fs_port *port)
{
    return dpdk_cast(port)->max_tx_len;
}

/* Statistics. */

static void
dpdk_get_stats(struct fs_port *port, struct fs_port_stats *stats)
{
    struct dpdk_port *p = dpdk_cast(port);
    struct rte_eth_stats dev;

    if (rte_eth_stats_get(p->port_id, &dev)) {
        memset(&dev, 0, sizeof dev);
    }
    stats->rx_packets = p->rx_packets;
    stats->rx_bytes = p->rx_bytes;
    stats->rx_dropped = dev.imissed + dev.rx_nombuf;
    stats->rx_errors = dev.ierrors + p->rx_truncated;
    stats->tx_packets = p->tx_packets;
    stats->tx_bytes = p->tx_bytes;
    stats->tx_dropped = p->tx_dropped;
    stats->tx_errors = dev.oerrors;
}

static int
dpdk_check(struct fs_port *port)
{
    struct dpdk_port *p = dpdk_cast(port);
    struct rte_eth_link link;

    if (!rte_eth_dev_is_valid_port(p->port_id)) {
        return ENODEV;
    }
    memset(&link, 0, sizeof link);
    int r = rte_eth_link_get_nowait(p->port_id, &link);
    if (r == -ENOTSUP) {
        return 0;               /* No link to tell. */
    } else if (r) {
        return ENODEV;
    }
    return link.link_status == RTE_ETH_LINK_UP ? 0 : ENETDOWN;
}

const struct fs_port_class fs_port_dpdk_class = {
    .type = "dpdk",
    .open = dpdk_open,
    .close = dpdk_close,
    .fd = NULL,                 /* Poll mode. */
    .rx_burst = dpdk_rx_burst,
    .rx_release = dpdk_rx_release,
    .tx_burst = dpdk_tx_burst,
    .max_tx_len = dpdk_max_tx_len,
    .get_stats = dpdk_get_stats,
    .check = dpdk_check,
};
