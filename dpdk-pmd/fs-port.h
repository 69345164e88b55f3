/*
 * fs-port: the inspector's packet I/O ports.
 *
 * A port reads and writes whole Ethernet frames on one interface, in
 * bursts.  One interface, several backends: the backend is chosen by name
 * in the options at run time ("afpacket"; "afxdp" if built with libxdp
 * and libbpf; "dpdk" if built with DPDK), never by rebuilding.
 *
 * Two kinds of backend:
 *
 *   - Kernel backends (afpacket, afxdp) have a file descriptor that polls
 *     readable when packets wait (fs_port_fd()): the caller sleeps in
 *     poll() until then.
 *
 *   - Poll-mode backends (fs_port_is_pmd(): DPDK) have none: the caller
 *     polls fs_port_rx_burst() and, when it keeps coming back empty,
 *     backs off by sleeping a little longer each time (adaptive sleep),
 *     so that an idle port does not spin a core.
 *
 * Conventions:
 *
 *   - Functions that can fail return 0 or a positive errno value (as in
 *     Open vSwitch).  Burst functions return a count (as in DPDK's
 *     rte_eth_rx_burst()).
 *
 *   - The library never prints, aborts or exits.  Details of an error or
 *     a degraded setup (a missing kernel feature, a fallback) go to the
 *     log callback in the options, if any.
 *
 *   - A port is used by one thread at a time; nothing here locks.
 *
 *   - Nothing is allocated per packet: rings are set up by fs_port_open()
 *     and packets are received in place (zero copy) and transmitted by
 *     copying into the backend's ring, or, where the backend can (DPDK,
 *     for a packet received on a port of the same backend), by passing a
 *     reference to the received buffer (fs_pkt_ref.handle).
 *
 * A forwarding loop ("bump in the wire"):
 *
 *     struct fs_pkt_ref pkts[FS_PORT_BURST];
 *     unsigned int n = fs_port_rx_burst(a, pkts, FS_PORT_BURST);
 *     ... inspect pkts[0 .. n-1] ...
 *     unsigned int sent = fs_port_tx_burst(b, pkts, n);
 *     my_drops += n - sent;
 *     fs_port_rx_release(a, n);
 */
#ifndef FS_PORT_H
#define FS_PORT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The burst size the data path is built around: callers keep arrays of
 * this many fs_pkt_ref on the stack. */
#define FS_PORT_BURST 32

struct fs_port;

/* fs_pkt_ref.flags.
 *
 * FS_PKT_CSUM_PARTIAL: the packet's L4 checksum was never filled in,
 * because the sending stack (on this host, e.g. a namespace or VM behind a
 * veth) left it to an offload.  Forwarded as is, the receiver sees a bad
 * checksum; turn off transmit checksum offload on the sender. */
#define FS_PKT_CSUM_PARTIAL (1u << 0)

/* A reference to one packet's bytes; it owns nothing.
 *
 * Received (fs_port_rx_burst()): 'data' points into the port's receive
 * ring.  The caller may read and write the 'caplen' bytes at 'data' until
 * the packet is released (see fs_port_rx_burst()).  The frame is as it was
 * on the wire: a VLAN tag that the kernel took out of it has been put
 * back (and counts in 'len' and 'caplen').
 *
 * To transmit (fs_port_tx_burst()): 'data' and 'len' say what to send
 * and 'caplen' is 0 or, as in a received packet, the bytes present: a
 * packet with 0 < caplen < len was received truncated and is dropped, not
 * sent with made-up bytes.  'ts_ns' and 'flags' are ignored.
 *
 * 'port' and 'handle' let a backend transmit a packet it (or another port
 * of the same backend) received without copying it: on receive, 'port' is
 * the receiving port and 'handle' the backend's own reference to the
 * buffer (a DPDK mbuf), or NULL if it has none.  A transmitting port uses
 * the handle only if 'port' is of its own backend and 'data' and 'len'
 * still describe the buffer as received; otherwise it copies.  A packet
 * the caller made itself has both NULL. */
struct fs_pkt_ref {
    uint8_t *data;              /* First byte of the Ethernet header. */
    uint32_t len;               /* Length of the frame on the wire. */
    uint32_t caplen;            /* Bytes at 'data', <= 'len'. */
    uint64_t ts_ns;             /* Receive time, ns since the Unix epoch
                                 * (CLOCK_REALTIME, set by the kernel), or
                                 * 0 if the backend has none. */
    uint32_t flags;             /* FS_PKT_*. */
    struct fs_port *port;       /* Received on this port, or NULL. */
    void *handle;               /* The backend's buffer, or NULL. */
};

/* Log callback: 'level' is one of FS_PORT_LOG_*, 'msg' a complete
 * sentence without a newline, valid only during the call. */
enum fs_port_log_level {
    FS_PORT_LOG_ERR,            /* Why fs_port_open() failed. */
    FS_PORT_LOG_WARN,           /* Working, but degraded (a fallback). */
    FS_PORT_LOG_INFO,           /* How the port was set up. */
};
typedef void fs_port_log_cb(void *aux, enum fs_port_log_level level,
                            const char *msg);

/* Options for fs_port_open().  Initialize with FS_PORT_OPTIONS_INIT or
 * zero it and set 'sz' = sizeof(struct fs_port_options): zero means "the
 * default" for every other member, and members added later are appended,
 * so a caller built against an older header keeps working. */
struct fs_port_options {
    size_t sz;                  /* sizeof(struct fs_port_options). */
    const char *backend;        /* "afpacket" (the default, if NULL) or
                                 * "afxdp" or "dpdk" (as built). */
    const char *ifname;         /* Interface name, required. */

    /* Ring sizes.  Each of the receive and transmit rings holds
     * 'ring_frames' frames of 'frame_size' bytes (defaults 1024 and 2048;
     * 'ring_frames' from 2 to 2^20, 'frame_size' a multiple of 16 from 256
     * to 65536).  'frame_size' includes the backend's per-frame header (48
     * bytes for afpacket), so it bounds the longest frame that can be
     * transmitted; see fs_port_max_tx_len(). */
    unsigned int ring_frames;
    unsigned int frame_size;

    /* afpacket only: the TPACKET version of the rings, 2 (the default) or
     * 3.  With 2, each received frame is the caller's as soon as the
     * kernel has written it, and a frame longer than 'frame_size' less
     * the header is truncated.  With 3, the receive ring is handed over in
     * blocks of 'block_size' bytes (default 64 KiB; rounded up to whole
     * pages, and at least one frame), and a block that is not full is
     * handed over after 'block_timeout_ms' (default 1, at most 10000):
     * fewer wake-ups at high rates, but a lone packet waits for the
     * timeout.  A received frame is then truncated only if it is longer
     * than a block.  'block_size' and 'block_timeout_ms' must be 0 with
     * version 2. */
    unsigned int block_size;
    unsigned int block_timeout_ms;

    /* afpacket only: true to transmit with sendmmsg() (one system call per
     * burst, one copy into a socket buffer per packet) instead of the
     * mmap'd transmit ring.  Also the fallback when the kernel refuses the
     * ring. */
    bool no_tx_ring;

    fs_port_log_cb *log;        /* May be NULL: no messages. */
    void *log_aux;              /* Passed to 'log'. */

    unsigned int tpacket_version; /* afpacket: 2 or 3, see above. */

    /* afxdp only: how the XDP program and the AF_XDP socket run, one of
     * FS_PORT_XDP_* (0, the default, is auto).  fs_port_open() logs the
     * mode that runs, as the kernel reports it.  For afxdp, 'ring_frames'
     * is rounded up to a power of two and is the size of each of the four
     * rings and of each half (receive, transmit) of the UMEM, and
     * 'frame_size' must be a power of two from 2048 to the page size; the
     * kernel puts 256 bytes of headroom before each received frame, so
     * longer frames than 'frame_size' - 256 are dropped (rx_dropped). */
    unsigned int xdp_mode;

    /* dpdk only (fs-port-dpdk.c has the details).
     *
     * The device: 'dpdk_devargs', if set, is a DPDK device to probe
     * (rte_dev_probe()), e.g. "net_virtio_user0,path=/run/x/vhu0,queues=1",
     * "net_ring0" or "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"; the port
     * is the ethdev named by its part before the first comma, and 'ifname'
     * is only the port's name for messages and fs_port_ifname().  If NULL,
     * 'ifname' itself names an ethdev that already exists (one the EAL
     * probed from its arguments, e.g. "0000:03:00.0" or a "--vdev", or one
     * the program made).  A device this port probed is removed again by
     * fs_port_close().
     *
     * The EAL (DPDK's environment) is set up once per process, by the first
     * dpdk port opened, from that port's options:
     *
     *   dpdk_lcores    the EAL's "-l" core list (default: the first CPU this
     *                  thread may run on); the thread that opens the first
     *                  port becomes the EAL's main lcore.
     *   dpdk_mem_mb    the EAL's "-m": MB of memory to reserve (0: the
     *                  EAL's default).
     *   dpdk_eal_args  further EAL arguments, separated by white space (no
     *                  quoting), e.g. "--in-memory --file-prefix=fs1" or
     *                  "--no-huge --no-shconf".  Required (non-NULL) for
     *                  the port that sets up the EAL: "" takes the EAL's
     *                  defaults, which use hugepages.
     *
     * Later ports may leave the three zero, or must give the same values:
     * the EAL cannot be set up again in the same process (EINVAL).  Without
     * "--no-huge", opening fails with ENOMEM if the system has no free
     * hugepages.
     *
     * 'ring_frames' sizes the device's receive and transmit descriptor
     * rings and, with them, the port's mbuf pool; 'frame_size' is each
     * mbuf's data room, 128 bytes of headroom included (so at most 65520,
     * and the longest frame is 'frame_size' - 128). */
    const char *dpdk_devargs;
    const char *dpdk_lcores;
    unsigned int dpdk_mem_mb;
    const char *dpdk_eal_args;
};

/* fs_port_options.xdp_mode. */
enum fs_port_xdp_mode {
    FS_PORT_XDP_AUTO,           /* Native if the driver has it (zero copy
                                 * if it can, else copy), else generic. */
    FS_PORT_XDP_GENERIC,        /* XDP_SKB mode, copy: any interface. */
    FS_PORT_XDP_NATIVE,         /* Driver mode, zero copy if possible. */
    FS_PORT_XDP_ZEROCOPY,       /* Driver mode and zero copy, or fail. */
};
#define FS_PORT_OPTIONS_INIT { .sz = sizeof(struct fs_port_options) }

/* Counters since the port was opened. */
struct fs_port_stats {
    uint64_t rx_packets;        /* Returned by fs_port_rx_burst(). */
    uint64_t rx_bytes;          /* Their 'len', summed. */
    uint64_t rx_dropped;        /* Dropped by the kernel: the receive ring
                                 * was full (PACKET_STATISTICS; afxdp:
                                 * XDP_STATISTICS, which also counts
                                 * frames too long for a UMEM frame). */
    uint64_t rx_errors;         /* Returned truncated (caplen < len). */
    uint64_t tx_packets;        /* Handed to the kernel to transmit. */
    uint64_t tx_bytes;          /* Their 'len', summed. */
    uint64_t tx_dropped;        /* Consumed by fs_port_tx_burst() without
                                 * being sent: longer than
                                 * fs_port_max_tx_len(), or refused by the
                                 * kernel. */
    uint64_t tx_errors;         /* Transmit system calls that failed. */
    uint64_t tx_busy;           /* Handed to fs_port_tx_burst() but not
                                 * consumed (ring full): the caller
                                 * retried or dropped them. */
};

/* Opens the port described by 'options' and stores it in '*portp'.
 * Returns 0 on success; otherwise stores NULL in '*portp' and returns a
 * positive errno value, with details sent to options->log:
 *
 *   EAFNOSUPPORT  unknown backend (see fs_port_backend_name())
 *   ENODEV        no interface 'ifname' (or a name too long to be one);
 *                 dpdk: no such ethdev, or 'dpdk_devargs' probed nothing
 *   EINVAL        bad options (no 'ifname', bad sizes, 'sz' too small or
 *                 larger with nonzero members this library does not know)
 *   EPERM         not allowed to open raw sockets (needs CAP_NET_RAW)
 *   EBUSY         afxdp: the interface has another XDP program, or
 *                 another AF_XDP socket on its queue 0
 *   EBUSY         dpdk: the device is already open as another port
 *   ENOMEM        dpdk: no hugepages, or no memory for the mbuf pool
 *   other         from the system calls that set the port up
 *
 * The caller retains ownership of 'options' and the strings it points to;
 * the port keeps copies of what it needs.  On success the caller owns the
 * port and must close it with fs_port_close(). */
int fs_port_open(const struct fs_port_options *options,
                 struct fs_port **portp);

/* Closes 'port' and frees everything it holds.  Packets from
 * fs_port_rx_burst() are invalid afterwards.  Accepts NULL. */
void fs_port_close(struct fs_port *port);

/* Returns 0 if 'port' still works, or a positive errno value if it must be
 * closed and opened again: its socket reports an error (ENETDOWN after a
 * link flap, ENXIO when the device went away), or its interface is gone
 * (ENODEV) or is another device of the same name (ESTALE: deleted and made
 * again, as Open vSwitch does with its ports when it restarts).  Cheap
 * enough to call after every empty receive. */
int fs_port_check(struct fs_port *port);

/* Returns a file descriptor that polls readable (POLLIN) when packets are
 * waiting to be received, for integration into a poll loop, or -1 for a
 * poll-mode port, which has none (see fs_port_is_pmd()).  It belongs to
 * the port: do not read, write or close it. */
int fs_port_fd(const struct fs_port *port);

/* Returns true if 'port' is poll mode: it has no file descriptor to wait
 * on, and packets arrive only by calling fs_port_rx_burst(). */
bool fs_port_is_pmd(const struct fs_port *port);

/* Receives up to 'n' packets into 'pkts[0 .. ret-1]' and returns how many,
 * 0 if none is waiting (it never blocks).
 *
 * The packets stay in the port's receive ring (zero copy): each
 * pkts[i].data is valid, and the caller may read and write its 'caplen'
 * bytes, until the packet is released, which happens at the earliest of
 *   - fs_port_rx_release() covering it,
 *   - the next call to fs_port_rx_burst() on this port, which first
 *     releases every packet still held,
 *   - fs_port_close().
 * While packets are held the kernel cannot reuse their part of the ring,
 * so release them promptly; to keep a packet longer, copy it.  The
 * 'pkts' array itself belongs to the caller. */
unsigned int fs_port_rx_burst(struct fs_port *port, struct fs_pkt_ref pkts[],
                              unsigned int n);

/* Releases the 'n' oldest packets still held from fs_port_rx_burst() (all
 * of them if 'n' is larger), giving their ring space back to the
 * kernel. */
void fs_port_rx_release(struct fs_port *port, unsigned int n);

/* Transmits pkts[0 .. n-1] in order and returns how many it consumed, from
 * the front: a consumed packet was either handed to the kernel (counted in
 * tx_packets) or dropped (counted in tx_dropped, e.g. longer than
 * fs_port_max_tx_len()).  Packets from the return value on were not
 * consumed because the transmit ring or socket buffer is full; the caller
 * may retry or drop them.
 *
 * The bytes are copied before it returns: the caller retains ownership of
 * 'pkts' and the data they point to, which may be packets received from
 * any port (this one included) and not yet released.  One system call per
 * FS_PORT_BURST packets (more only when the kernel refuses packets).
 *
 * Except by reference: a dpdk port sends a packet received on a dpdk port
 * (fs_pkt_ref.handle) by taking a reference to its mbuf, which the device
 * holds until it has sent it.  The caller may still release the packet at
 * once, but must not change its bytes after this call. */
unsigned int fs_port_tx_burst(struct fs_port *port,
                              const struct fs_pkt_ref pkts[], unsigned int n);

/* Returns the length of the longest frame fs_port_tx_burst() can send:
 * the interface's MTU (as found when the port was opened) plus the
 * Ethernet header, plus 4 for a frame with a VLAN tag, and never more than
 * the frame size less the backend's header. */
uint32_t fs_port_max_tx_len(const struct fs_port *port);

/* Stores the port's counters in '*stats'.  Not const: reading the
 * kernel's drop counter resets it, so the port accumulates. */
void fs_port_get_stats(struct fs_port *port, struct fs_port_stats *stats);

/* Returns the name of the port's backend and of its interface, valid
 * until the port is closed. */
const char *fs_port_backend(const struct fs_port *port);
const char *fs_port_ifname(const struct fs_port *port);

/* Brings interface 'ifname' up if it is down (Open vSwitch creates its
 * internal ports down).  Needs CAP_NET_ADMIN for a change.  Returns 0 or
 * a positive errno value. */
int fs_port_ifup(const char *ifname);

/* Returns true if this build has backend 'name'. */
bool fs_port_backend_known(const char *name);

/* Returns the name of the i'th backend this build knows, for 'i' from 0,
 * or NULL past the last one.  Static strings. */
const char *fs_port_backend_name(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* fs-port.h */
