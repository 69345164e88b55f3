/*
 * fs-port-afxdp: the AF_XDP backend of the port interface.
 *
 * One AF_XDP socket per port, on queue 0 of the interface, made with
 * libxdp's xsk API, and one UMEM of 2 * 'ring_frames' frames of
 * 'frame_size' bytes: the first half feeds the fill ring (receive), the
 * second half is the pool that fs_port_tx_burst() copies into.  The four
 * rings (fill, completion, receive, transmit) hold 'ring_frames' entries
 * each, rounded up to a power of two.  The socket has a file descriptor
 * that polls readable when packets wait, so the port is not poll mode.
 *
 * Receive: fs_port_rx_burst() takes the receive descriptors and returns
 * pointers into the UMEM (zero copy for the caller; the kernel itself
 * copies into the UMEM unless the socket runs in zero-copy mode), with
 * 'handle' set to the frame's UMEM address.  A released frame goes back
 * to the fill ring.
 *
 * Transmit: each packet is copied into a free frame of the transmit half,
 * queued on the transmit ring, and the kernel is kicked with sendto() when
 * it asks for it (need_wakeup), at most every FS_PORT_BURST packets.  Sent
 * frames come back on the completion ring and are reclaimed by the next
 * fs_port_tx_burst() or fs_port_rx_burst().  The kernel sends up to 32
 * frames per kick in copy mode; frames it left behind get a kick from the
 * next burst, transmit or receive, so none waits for more traffic.
 *
 * The XDP program, and the modes.  The program is libxdp's default one for
 * AF_XDP (xsk_def_xdp_prog.o: redirect queue N's packets to the socket in
 * slot N of its xsks_map, pass them to the kernel's stack if there is
 * none), loaded with libbpf and attached with plain netlink (no libxdp
 * dispatcher, nothing pinned in bpffs).  'xdp_mode' (FS_PORT_XDP_*) picks:
 *
 *   - auto (default): native (driver) mode if the driver has it, the
 *     socket in zero-copy mode if the driver can, else copy mode; generic
 *     (XDP_SKB) mode with a copy if the driver has no native XDP.
 *   - generic: XDP_SKB mode, copy.  Works on every interface.
 *   - native: driver mode, zero copy if possible, else copy; fails
 *     without native XDP.
 *   - zerocopy: driver mode and zero copy, or fail.
 *
 * fs_port_open() logs (INFO) the mode that runs, as the kernel reports it
 * (the attach mode from netlink, XDP_OPTIONS_ZEROCOPY from the socket),
 * not as asked.  veth has native XDP but no zero copy: "native, copy".
 *
 * After a crash.  The program stays attached when the process dies
 * (kill -9 included), but the kernel removes a closed socket from the
 * xsks_map, so the interface passes everything to the kernel's stack until
 * the next fs_port_open(), which finds the default program, claims slot 0
 * of its map (BPF_NOEXIST: if another live socket holds it, the open
 * fails with EBUSY rather than steal its traffic) and adopts the program
 * as its own.  fs_port_close() detaches the program only if it is still
 * the one this port attached or adopted (an atomic replace-if-equal), so
 * it never removes someone else's.  A foreign XDP program on the interface
 * (anything but the default one, libxdp's dispatcher included) is left
 * alone and fs_port_open() fails with EBUSY; remove it with
 * "ip link set dev IF xdp off" (or xdpgeneric off).
 *
 * VLAN: XDP sees the frame as it came in, an in-band VLAN tag included,
 * and nothing strips it before the program runs (generic mode runs before
 * the stack's untagging, native mode before the stack altogether), so the
 * frame keeps its tag and nothing needs restoring.  A tag that a sender
 * on this host gave out of band (a VLAN device stacked on the veth peer
 * with tx-vlan-offload on) is metadata of the skb that XDP does not see:
 * such a frame arrives untagged.  Turn tx-vlan-offload off on such a
 * sender.  (The in-band case is tested, tests/port-afxdp.sh; the
 * out-of-band one is read from the kernel's code, not measured: the
 * test kernel has neither 8021q nor act_vlan to make such a frame.)
 *
 * Checksums: XDP says nothing of a packet whose checksum was left to an
 * offload (FS_PKT_CSUM_PARTIAL is never set): turn off transmit checksum
 * offload on senders on this host, as for afpacket.
 *
 * Memory: the UMEM is pinned and counts against RLIMIT_MEMLOCK unless the
 * process has CAP_IPC_LOCK; fs_port_open() raises the soft limit to the
 * hard one and says so if the UMEM may still not fit.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "fs-port-provider.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define VLAN_HLEN 4

/* libxdp's default AF_XDP program, its entry point and its map. */
#define XSK_PROG_FILE "xsk_def_xdp_prog.o"
#define XSK_PROG_NAME "xsk_def_prog"
#define XSK_MAP_NAME "xsks_map"

#define MIN_FRAME_SIZE 2048     /* The kernel's XDP_UMEM_MIN_CHUNK_SIZE. */
#define MAX_RING_FRAMES (1u << 20)

struct afx_port {
    struct fs_port up;
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    struct xsk_ring_prod fq;    /* Fill. */
    struct xsk_ring_cons cq;    /* Completion. */
    struct xsk_ring_cons rx;
    struct xsk_ring_prod tx;
    int fd;                     /* xsk_socket__fd(), or -1. */
    int ioctl_fd;               /* For interface queries. */

    uint8_t *area;              /* The UMEM. */
    size_t area_size;
    uint32_t frame_size;
    uint32_t n_frames;          /* Per half, and per ring. */

    /* Received frames not yet released, oldest first: 'held' UMEM
     * addresses from 'held_head' in a ring of 'n_frames'. */
    uint64_t *held_addrs;
    uint32_t held_head;
    uint32_t held;

    /* Free frames of the transmit half: a stack of 'n_tx_free'. */
    uint64_t *tx_free;
    uint32_t n_tx_free;

    /* The XDP program: ours to detach at close if 'prog_fd' >= 0. */
    struct xdp_program *prog;   /* If we loaded it. */
    int prog_fd;
    int map_fd;
    uint32_t attach_flags;      /* XDP_FLAGS_SKB_MODE or _DRV_MODE. */

    int ifindex;
    uint32_t mtu;
    uint32_t max_tx_len;
    struct fs_port_stats stats;
};

static struct afx_port *
afx_cast(const struct fs_port *port)
{
    return (struct afx_port *) port;
}

/* libbpf and libxdp print to stderr unless told otherwise, and a library
 * must not; while fs_port_open() runs, their warnings go to its log
 * callback instead (as INFO: our own message says what failed).  Their
 * print hooks are global: two threads must not open afxdp ports at the
 * same time. */
static const struct fs_port_options *lib_log_options;

static void
lib_log(const char *lib, const char *format, va_list args)
{
    char msg[256];
    size_t len;

    if (!lib_log_options) {
        return;
    }
    vsnprintf(msg, sizeof msg, format, args);
    len = strlen(msg);
    while (len && msg[len - 1] == '\n') {
        msg[--len] = '\0';
    }
    fs_port_log(lib_log_options, FS_PORT_LOG_INFO, "%s: %s", lib, msg);
}

static int
libbpf_log(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level == LIBBPF_WARN) {
        lib_log("libbpf", format, args);
    }
    return 0;
}

static int
libxdp_log(enum libxdp_print_level level, const char *format, va_list args)
{
    if (level == LIBXDP_WARN) {
        lib_log("libxdp", format, args);
    }
    return 0;
}

/* Setup. */

static uint32_t
round_up_pow2(uint32_t x)
{
    uint32_t y = 1;

    while (y < x) {
        y <<= 1;
    }
    return y;
}

static const char *
xdp_mode_name(unsigned int mode)
{
    switch (mode) {
    case FS_PORT_XDP_AUTO: return "auto";
    case FS_PORT_XDP_GENERIC: return "generic";
    case FS_PORT_XDP_NATIVE: return "native";
    case FS_PORT_XDP_ZEROCOPY: return "zerocopy";
    default: return "?";
    }
}

/* Checks the options and fills in defaults.  Returns 0 or EINVAL. */
static int
afx_check_options(struct fs_port_options *o)
{
    long page = sysconf(_SC_PAGESIZE);

    if (o->tpacket_version || o->block_size || o->block_timeout_ms
        || o->no_tx_ring) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: tpacket_version, block_size, "
                    "block_timeout_ms and no_tx_ring are for afpacket only",
                    o->ifname);
        return EINVAL;
    }
    if (o->xdp_mode > FS_PORT_XDP_ZEROCOPY) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: xdp_mode=%u: want 0 to %d "
                    "(auto, generic, native, zerocopy)", o->ifname,
                    o->xdp_mode, FS_PORT_XDP_ZEROCOPY);
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
    if (o->frame_size < MIN_FRAME_SIZE || o->frame_size > page
        || (o->frame_size & (o->frame_size - 1))) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: frame_size=%u: want a power of "
                    "2 from %d to the page size, %ld (afxdp)", o->ifname,
                    o->frame_size, MIN_FRAME_SIZE, page);
        return EINVAL;
    }
    return 0;
}

/* The UMEM is pinned memory.  Root (CAP_IPC_LOCK) is not limited; others
 * are, by RLIMIT_MEMLOCK, which we raise as far as we may. */
static void
afx_raise_memlock(const struct afx_port *p, const struct fs_port_options *o)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_MEMLOCK, &rl)) {
        return;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
            fs_port_log(o, FS_PORT_LOG_INFO, "%s: cannot raise "
                        "RLIMIT_MEMLOCK: %s", o->ifname, strerror(errno));
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < p->area_size) {
        fs_port_log(o, FS_PORT_LOG_INFO, "%s: RLIMIT_MEMLOCK is %llu bytes, "
                    "less than the %zu of the UMEM: registering it needs "
                    "CAP_IPC_LOCK (root has it) or a higher limit (ulimit "
                    "-l)", o->ifname, (unsigned long long) rl.rlim_cur,
                    p->area_size);
    }
}

/* Allocates the UMEM's memory and our bookkeeping. */
static int
afx_setup_umem(struct afx_port *p, const struct fs_port_options *o)
{
    int error;

    p->area_size = (size_t) 2 * p->n_frames * p->frame_size;
    p->area = mmap(NULL, p->area_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->area == MAP_FAILED) {
        error = errno;
        p->area = NULL;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot allocate a UMEM of %zu "
                    "bytes: %s", o->ifname, p->area_size, strerror(error));
        return error;
    }
    p->held_addrs = calloc(p->n_frames, sizeof *p->held_addrs);
    p->tx_free = calloc(p->n_frames, sizeof *p->tx_free);
    if (!p->held_addrs || !p->tx_free) {
        return ENOMEM;
    }
    afx_raise_memlock(p, o);
    return 0;
}

/* Registers the UMEM.  Returns 0 or a positive errno value. */
static int
afx_create_umem(struct afx_port *p, const struct fs_port_options *o)
{
    struct xsk_umem_config cfg = {
        .fill_size = p->n_frames,
        .comp_size = p->n_frames,
        .frame_size = p->frame_size,
        .frame_headroom = 0,
        .flags = 0,
    };
    int error = -xsk_umem__create(&p->umem, p->area, p->area_size, &p->fq,
                              &p->cq, &cfg);
    if (error) {
        p->umem = NULL;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot register a UMEM of %zu "
                    "bytes (%u frames of %u): %s%s", o->ifname, p->area_size,
                    2 * p->n_frames, p->frame_size, strerror(error),
                    error == ENOBUFS || error == EPERM
                    ? " (RLIMIT_MEMLOCK too low? see ulimit -l)" : "");
        return error;
    }
    for (uint32_t i = 0; i < p->n_frames; i++) {
        p->tx_free[i] = (uint64_t) (p->n_frames + i) * p->frame_size;
    }
    p->n_tx_free = p->n_frames;
    return 0;
}

/* If 'prog_id' is libxdp's default AF_XDP program, stores its fd and its
 * xsks_map's fd in '*prog_fdp' and '*map_fdp' and returns true. */
static bool
find_xsk_prog(uint32_t prog_id, int *prog_fdp, int *map_fdp)
{
    struct bpf_prog_info info;
    uint32_t map_ids[8];
    uint32_t len = sizeof info;
    int prog_fd = bpf_prog_get_fd_by_id(prog_id);

    if (prog_fd < 0) {
        return false;
    }
    memset(&info, 0, sizeof info);
    info.nr_map_ids = sizeof map_ids / sizeof map_ids[0];
    info.map_ids = (uint64_t) (uintptr_t) map_ids;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)
        || strcmp(info.name, XSK_PROG_NAME)) {
        close(prog_fd);
        return false;
    }
    for (uint32_t i = 0; i < info.nr_map_ids && i < 8; i++) {
        struct bpf_map_info minfo;
        uint32_t mlen = sizeof minfo;
        int map_fd = bpf_map_get_fd_by_id(map_ids[i]);

        if (map_fd < 0) {
            continue;
        }
        memset(&minfo, 0, sizeof minfo);
        if (!bpf_obj_get_info_by_fd(map_fd, &minfo, &mlen)
            && minfo.type == BPF_MAP_TYPE_XSKMAP
            && !strcmp(minfo.name, XSK_MAP_NAME)) {
            *prog_fdp = prog_fd;
            *map_fdp = map_fd;
            return true;
        }
        close(map_fd);
    }
    close(prog_fd);
    return false;
}

/* Whether 'flags' (XDP_FLAGS_*_MODE) suits the mode asked for. */
static bool
attach_mode_ok(unsigned int xdp_mode, uint32_t flags)
{
    return (xdp_mode == FS_PORT_XDP_AUTO
            || (xdp_mode == FS_PORT_XDP_GENERIC
                ? flags == XDP_FLAGS_SKB_MODE : flags == XDP_FLAGS_DRV_MODE));
}

/* Looks at the XDP program attached to the interface, if any: a leftover
 * default AF_XDP program (of an earlier port that was killed, or of a
 * live one: afx_claim_slot() tells) goes in 'p->prog_fd' and 'p->map_fd'
 * with its mode in 'p->attach_flags'; anything else is EBUSY. */
static int
afx_find_leftover(struct afx_port *p, const struct fs_port_options *o)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    int error = -bpf_xdp_query(p->ifindex, 0, &q);

    if (error) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot query its XDP program: "
                    "%s", o->ifname, strerror(error));
        return error;
    }
    if (q.attach_mode == XDP_ATTACHED_NONE) {
        return 0;
    }
    if (q.attach_mode == XDP_ATTACHED_SKB
        || q.attach_mode == XDP_ATTACHED_DRV) {
        p->attach_flags = (q.attach_mode == XDP_ATTACHED_SKB
                           ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
        if (find_xsk_prog(q.prog_id, &p->prog_fd, &p->map_fd)) {
            return 0;
        }
    }
    fs_port_log(o, FS_PORT_LOG_ERR, "%s: has an XDP program (id %u) that is "
                "not libxdp's default AF_XDP program: not touching it (remove "
                "it with \"ip link set dev %s xdp off\" or \"xdpgeneric "
                "off\")", o->ifname, q.prog_id, o->ifname);
    return EBUSY;
}

/* Loads libxdp's default AF_XDP program and attaches it in mode 'flags'. */
static int
afx_attach(struct afx_port *p, const struct fs_port_options *o,
           uint32_t flags, bool quiet)
{
    struct bpf_object *obj;
    struct bpf_program *bprog;
    struct bpf_map *map;
    int error;

    if (!p->prog) {
        p->prog = xdp_program__find_file(XSK_PROG_FILE, NULL, NULL);
        error = libxdp_get_error(p->prog);
        if (error) {
            p->prog = NULL;
            fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot find libxdp's %s "
                        "(package libxdp1; or set LIBXDP_OBJECT_PATH): %s",
                        o->ifname, XSK_PROG_FILE, strerror(-error));
            return -error;
        }
        obj = xdp_program__bpf_obj(p->prog);
        error = -bpf_object__load(obj);
        bprog = bpf_object__find_program_by_name(obj, XSK_PROG_NAME);
        map = bpf_object__find_map_by_name(obj, XSK_MAP_NAME);
        if (error || !bprog || !map) {
            error = error ? error : ENOENT;
            fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot load %s: %s",
                        o->ifname, XSK_PROG_FILE, strerror(error));
            return error;
        }
        p->prog_fd = bpf_program__fd(bprog);
        p->map_fd = bpf_map__fd(map);
    }
    error = -bpf_xdp_attach(p->ifindex, p->prog_fd,
                            flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
    if (error) {
        fs_port_log(o, quiet ? FS_PORT_LOG_INFO : FS_PORT_LOG_ERR,
                    "%s: cannot attach the XDP program in %s mode: %s",
                    o->ifname, flags == XDP_FLAGS_SKB_MODE ? "generic"
                    : "native", strerror(error));
        return error;
    }
    p->attach_flags = flags;
    return 0;
}

static void
afx_detach(struct afx_port *p)
{
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = p->prog_fd);

    if (p->prog_fd >= 0 && p->attach_flags) {
        /* Replace-if-equal: a no-op if it is no longer ours. */
        bpf_xdp_detach(p->ifindex, p->attach_flags | XDP_FLAGS_REPLACE,
                       &opts);
        p->attach_flags = 0;
    }
}

/* Puts our socket in slot 0 of the program's map, unless a live socket
 * holds it. */
static int
afx_claim_slot(struct afx_port *p, const struct fs_port_options *o)
{
    uint32_t key = 0;
    int error = (bpf_map_update_elem(p->map_fd, &key, &p->fd, BPF_NOEXIST)
                 ? errno : 0);

    if (error == EEXIST) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: queue 0 already has an AF_XDP "
                    "socket (another port is open on it)", o->ifname);
        return EBUSY;
    } else if (error) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot add the socket to the "
                    "XDP program's map: %s", o->ifname, strerror(error));
    }
    return error;
}

/* Attaches the program, or adopts a leftover one, as 'o->xdp_mode' asks:
 * native first unless generic is asked, generic if auto and the driver
 * has no native XDP. */
static int
afx_setup_prog(struct afx_port *p, const struct fs_port_options *o)
{
    int error = afx_find_leftover(p, o);

    if (error) {
        return error;
    }
    if (p->prog_fd >= 0) {
        /* Adopt it, if our socket can have its slot: then no live socket
         * uses it. */
        error = afx_claim_slot(p, o);
        if (error) {
            p->attach_flags = 0;        /* Not ours to detach. */
            return error;
        }
        fs_port_log(o, FS_PORT_LOG_INFO, "%s: adopted a default AF_XDP "
                    "program that an earlier user left attached, in %s mode",
                    o->ifname, p->attach_flags == XDP_FLAGS_SKB_MODE
                    ? "generic" : "native");
        if (attach_mode_ok(o->xdp_mode, p->attach_flags)) {
            return 0;
        }
        afx_detach(p);
        close(p->prog_fd);
        close(p->map_fd);
        p->prog_fd = p->map_fd = -1;
    }

    if (o->xdp_mode != FS_PORT_XDP_GENERIC) {
        error = afx_attach(p, o, XDP_FLAGS_DRV_MODE,
                           o->xdp_mode == FS_PORT_XDP_AUTO);
        if (error && o->xdp_mode == FS_PORT_XDP_AUTO && p->prog_fd >= 0) {
            fs_port_log(o, FS_PORT_LOG_INFO, "%s: no native XDP: falling "
                        "back to generic mode", o->ifname);
            error = afx_attach(p, o, XDP_FLAGS_SKB_MODE, false);
        }
    } else {
        error = afx_attach(p, o, XDP_FLAGS_SKB_MODE, false);
    }
    return error ? error : afx_claim_slot(p, o);
}

static int
afx_bind_socket(struct afx_port *p, const struct fs_port_options *o,
                bool retry_busy)
{
    struct xsk_socket_config cfg = {
        .rx_size = p->n_frames,
        .tx_size = p->n_frames,
        .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
        .xdp_flags = 0,
        .bind_flags = XDP_USE_NEED_WAKEUP,
    };
    int error;

    if (o->xdp_mode == FS_PORT_XDP_GENERIC) {
        cfg.bind_flags |= XDP_COPY;
    } else if (o->xdp_mode == FS_PORT_XDP_ZEROCOPY) {
        cfg.bind_flags |= XDP_ZEROCOPY;
    }
    error = -xsk_socket__create(&p->xsk, o->ifname, 0, p->umem, &p->rx,
                                &p->tx, &cfg);
    if (error == EBUSY && retry_busy) {
        p->xsk = NULL;
        return error;
    } else if (error == EBUSY) {
        p->xsk = NULL;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: queue 0 already has an AF_XDP "
                    "socket (another port open on this interface?)",
                    o->ifname);
        return error;
    } else if (error) {
        p->xsk = NULL;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot bind an AF_XDP socket to "
                    "queue 0%s: %s%s", o->ifname,
                    o->xdp_mode == FS_PORT_XDP_ZEROCOPY
                    ? " in zero-copy mode" : "", strerror(error),
                    error == EPERM ? " (needs CAP_NET_RAW and CAP_BPF or "
                    "root)" : "");
        return error;
    }
    p->fd = xsk_socket__fd(p->xsk);
    return 0;
}

/* Registers the UMEM and makes the socket, bound to queue 0.  The
 * program is ours to manage (INHIBIT_PROG_LOAD), so the socket comes first
 * and is added to the program's map by afx_setup_prog().  The bind tries
 * zero copy unless generic mode is asked (a copy there anyway).
 *
 * A queue takes one AF_XDP socket (EBUSY for a second), and the kernel
 * lets go of a closed socket's queue a little after close() (deferred
 * work), so a port opened just after its predecessor exited or was killed
 * finds the queue busy for a few milliseconds: retry for up to a second,
 * with a fresh UMEM each time. */
static int
afx_setup_socket(struct afx_port *p, const struct fs_port_options *o)
{
    int error;

    for (int try = 0; ; try++) {
        error = afx_create_umem(p, o);
        if (error) {
            return error;
        }
        error = afx_bind_socket(p, o, try < 100);
        if (error != EBUSY || try >= 100) {
            break;
        }
        xsk_umem__delete(p->umem);
        p->umem = NULL;
        usleep(10 * 1000);
    }
    return error;
}

/* Gives the whole receive half to the kernel. */
static void
afx_fill_all(struct afx_port *p)
{
    uint32_t idx;

    if (xsk_ring_prod__reserve(&p->fq, p->n_frames, &idx) == p->n_frames) {
        for (uint32_t i = 0; i < p->n_frames; i++) {
            *xsk_ring_prod__fill_addr(&p->fq, idx + i)
                = (uint64_t) i * p->frame_size;
        }
        xsk_ring_prod__submit(&p->fq, p->n_frames);
    }
}

/* Logs the mode that runs, as the kernel reports it. */
static void
afx_log_mode(struct afx_port *p, const struct fs_port_options *o)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    struct xdp_options xo = { 0 };
    socklen_t len = sizeof xo;
    const char *attach = "unknown";
    const char *copy = "unknown";

    if (!bpf_xdp_query(p->ifindex, 0, &q)) {
        attach = (q.attach_mode == XDP_ATTACHED_SKB ? "generic (XDP_SKB)"
                  : q.attach_mode == XDP_ATTACHED_DRV ? "native (XDP_DRV)"
                  : q.attach_mode == XDP_ATTACHED_HW ? "offloaded"
                  : q.attach_mode == XDP_ATTACHED_MULTI ? "multiple"
                  : "none");
    }
    if (!getsockopt(p->fd, SOL_XDP, XDP_OPTIONS, &xo, &len)) {
        copy = xo.flags & XDP_OPTIONS_ZEROCOPY ? "zero-copy" : "copy";
    }
    fs_port_log(o, FS_PORT_LOG_INFO, "%s: afxdp port: XDP mode %s, socket "
                "in %s mode (asked: %s), queue 0, UMEM %u + %u frames of %u "
                "bytes, rings of %u, MTU %u", o->ifname, attach, copy,
                xdp_mode_name(o->xdp_mode), p->n_frames, p->n_frames,
                p->frame_size, p->n_frames, p->mtu);
}

static void afx_close(struct fs_port *);

static int
afx_open(const struct fs_port_options *options, struct fs_port **portp)
{
    struct fs_port_options o = *options;
    libbpf_print_fn_t old_bpf_print;
    libxdp_print_fn_t old_xdp_print;
    struct afx_port *p;
    int error;

    error = afx_check_options(&o);
    if (error) {
        return error;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        return ENOMEM;
    }
    fs_port_init(&p->up, &fs_port_afxdp_class, o.ifname);
    p->fd = p->prog_fd = p->map_fd = -1;
    p->frame_size = o.frame_size;
    p->n_frames = round_up_pow2(o.ring_frames);

    lib_log_options = &o;
    old_bpf_print = libbpf_set_print(libbpf_log);
    old_xdp_print = libxdp_set_print(libxdp_log);

    p->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    error = (p->ioctl_fd < 0 ? errno
             : fs_port_query_interface(p->ioctl_fd, &o, &p->ifindex,
                                       &p->mtu));
    if (!error) {
        error = afx_setup_umem(p, &o);
    }
    if (!error) {
        error = afx_setup_socket(p, &o);
    }
    if (!error) {
        error = afx_setup_prog(p, &o);
    }

    libbpf_set_print(old_bpf_print);
    libxdp_set_print(old_xdp_print);
    lib_log_options = NULL;
    if (error) {
        afx_close(&p->up);
        return error;
    }

    afx_fill_all(p);
    p->max_tx_len = p->frame_size;
    if (p->max_tx_len > p->mtu + ETH_HLEN + VLAN_HLEN) {
        p->max_tx_len = p->mtu + ETH_HLEN + VLAN_HLEN;
    }
    afx_log_mode(p, &o);
    *portp = &p->up;
    return 0;
}

static void
afx_close(struct fs_port *port)
{
    struct afx_port *p = afx_cast(port);

    if (p->xsk) {
        xsk_socket__delete(p->xsk);
    }
    afx_detach(p);
    if (p->prog) {
        xdp_program__close(p->prog);    /* Closes 'prog_fd', 'map_fd'. */
    } else {
        if (p->prog_fd >= 0) {
            close(p->prog_fd);
        }
        if (p->map_fd >= 0) {
            close(p->map_fd);
        }
    }
    if (p->umem) {
        xsk_umem__delete(p->umem);
    }
    if (p->area) {
        munmap(p->area, p->area_size);
    }
    if (p->ioctl_fd >= 0) {
        close(p->ioctl_fd);
    }
    free(p->held_addrs);
    free(p->tx_free);
    free(p);
}

static int
afx_fd(const struct fs_port *port)
{
    return afx_cast(port)->fd;
}

/* Transmit completions, and kicks. */

static void
afx_kick_tx(struct afx_port *p)
{
    while (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
        if (errno != EINTR) {
            /* EAGAIN, EBUSY, ENOBUFS: the kernel is busy and frames stay
             * queued for the next kick. */
            if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
                p->stats.tx_errors++;
            }
            break;
        }
    }
}

/* Reclaims sent frames, and kicks the kernel if frames wait on the
 * transmit ring. */
static void
afx_tx_flush(struct afx_port *p)
{
    uint32_t idx;
    uint32_t n = xsk_ring_cons__peek(&p->cq, p->n_frames, &idx);

    for (uint32_t i = 0; i < n; i++) {
        p->tx_free[p->n_tx_free++] = *xsk_ring_cons__comp_addr(&p->cq,
                                                                idx + i);
    }
    if (n) {
        xsk_ring_cons__release(&p->cq, n);
    }
    if (p->tx.cached_prod != __atomic_load_n(p->tx.consumer, __ATOMIC_ACQUIRE)
        && xsk_ring_prod__needs_wakeup(&p->tx)) {
        afx_kick_tx(p);
    }
}

/* Receive. */

static void
afx_rx_release(struct fs_port *port, unsigned int n)
{
    struct afx_port *p = afx_cast(port);
    uint32_t idx = 0;

    if (n > p->held) {
        n = p->held;
    }
    if (!n) {
        return;
    }
    /* The fill ring has room for every receive frame, so this never
     * falls short. */
    xsk_ring_prod__reserve(&p->fq, n, &idx);
    for (unsigned int i = 0; i < n; i++) {
        *xsk_ring_prod__fill_addr(&p->fq, idx + i)
            = p->held_addrs[p->held_head];
        p->held_head = (p->held_head + 1) & (p->n_frames - 1);
    }
    xsk_ring_prod__submit(&p->fq, n);
    p->held -= n;
}

static unsigned int
afx_rx_burst(struct fs_port *port, struct fs_pkt_ref pkts[], unsigned int n)
{
    struct afx_port *p = afx_cast(port);
    uint32_t idx, got;

    afx_rx_release(port, UINT_MAX);
    afx_tx_flush(p);

    got = xsk_ring_cons__peek(&p->rx, n, &idx);
    if (!got) {
        if (xsk_ring_prod__needs_wakeup(&p->fq)) {
            recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
        }
        return 0;
    }
    for (uint32_t i = 0; i < got; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);
        struct fs_pkt_ref *pkt = &pkts[i];
        uint64_t addr = d->addr;

        pkt->data = xsk_umem__get_data(p->area, addr);
        pkt->len = pkt->caplen = d->len;
        pkt->ts_ns = 0;
        pkt->flags = 0;
        pkt->port = port;
        pkt->handle = (void *) (uintptr_t) addr;
        p->held_addrs[(p->held_head + p->held) & (p->n_frames - 1)]
            = xsk_umem__extract_addr(addr) & ~(uint64_t) (p->frame_size - 1);
        p->held++;
        p->stats.rx_packets++;
        p->stats.rx_bytes += d->len;
    }
    xsk_ring_cons__release(&p->rx, got);
    return got;
}

/* Transmit. */

static unsigned int
afx_tx_burst(struct fs_port *port, const struct fs_pkt_ref pkts[],
             unsigned int n)
{
    struct afx_port *p = afx_cast(port);
    unsigned int queued = 0;
    unsigned int i;

    afx_tx_flush(p);
    for (i = 0; i < n; i++) {
        const struct fs_pkt_ref *pkt = &pkts[i];
        struct xdp_desc *d;
        uint64_t addr;
        uint32_t idx;

        if (!fs_port_tx_ok(pkt, p->mtu, p->max_tx_len)) {
            p->stats.tx_dropped++;
            continue;
        }
        /* The transmit ring has room for every transmit frame, so a free
         * frame means a free descriptor. */
        if (!p->n_tx_free || !xsk_ring_prod__reserve(&p->tx, 1, &idx)) {
            break;
        }
        addr = p->tx_free[--p->n_tx_free];
        memcpy(xsk_umem__get_data(p->area, addr), pkt->data, pkt->len);
        d = xsk_ring_prod__tx_desc(&p->tx, idx);
        d->addr = addr;
        d->len = pkt->len;
        d->options = 0;
        p->stats.tx_packets++;
        p->stats.tx_bytes += pkt->len;
        if (++queued == FS_PORT_BURST) {
            xsk_ring_prod__submit(&p->tx, queued);
            afx_kick_tx(p);
            queued = 0;
        }
    }
    if (queued) {
        xsk_ring_prod__submit(&p->tx, queued);
        if (xsk_ring_prod__needs_wakeup(&p->tx)) {
            afx_kick_tx(p);
        }
    }
    return i;
}

static uint32_t
afx_max_tx_len(const struct fs_port *port)
{
    return afx_cast(port)->max_tx_len;
}

/* Statistics and health. */

static void
afx_get_stats(struct fs_port *port, struct fs_port_stats *stats)
{
    struct afx_port *p = afx_cast(port);
    struct xdp_statistics xs;
    socklen_t len = sizeof xs;

    *stats = p->stats;
    /* The kernel's counters are cumulative (not reset on read). */
    if (!getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &xs, &len)) {
        stats->rx_dropped = xs.rx_dropped + xs.rx_ring_full;
        stats->rx_errors += xs.rx_invalid_descs;
        stats->tx_errors += xs.tx_invalid_descs;
    }
}

static int
afx_check(struct fs_port *port)
{
    struct afx_port *p = afx_cast(port);
    struct ifreq ifr;
    int error;

    /* The kernel sets ENETDOWN on the socket when its device goes away. */
    error = fs_port_check_socket(port, p->fd, p->ioctl_fd, p->ifindex);
    if (error) {
        return error;
    }
    /* An AF_XDP socket survives a link flap, but receives nothing while
     * the link is down: say so, as afpacket does. */
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, p->up.ifname, sizeof p->up.ifname);
    if (!ioctl(p->ioctl_fd, SIOCGIFFLAGS, &ifr)
        && !(ifr.ifr_flags & IFF_UP)) {
        return ENETDOWN;
    }
    return 0;
}

const struct fs_port_class fs_port_afxdp_class = {
    .type = "afxdp",
    .open = afx_open,
    .close = afx_close,
    .fd = afx_fd,
    .rx_burst = afx_rx_burst,
    .rx_release = afx_rx_release,
    .tx_burst = afx_tx_burst,
    .max_tx_len = afx_max_tx_len,
    .get_stats = afx_get_stats,
    .check = afx_check,
};
