/*
 * fs-port-afpacket: the AF_PACKET backend of the port interface.
 *
 * One packet socket per port, bound to the interface for every protocol
 * (ETH_P_ALL), promiscuous, with two rings in one mmap'd area.  The
 * receive ring is one of:
 *
 *   - TPACKET_V2 (the default), frame based.  Each packet has its own
 *     frame and status word: it is the caller's as soon as the kernel has
 *     written it, and poll() wakes for it at once.  fs_port_rx_burst()
 *     takes the frames in place, in ring order, and a frame goes back to
 *     the kernel when it is released.  No system call per packet while
 *     packets keep coming; a wake-up per packet when they trickle in.
 *
 *   - TPACKET_V3 (tpacket_version=3), block based.  The kernel packs
 *     packets into a block and hands the whole block over when it is full
 *     or after the block timeout; fs_port_rx_burst() walks the blocks in
 *     place and a block goes back to the kernel once every packet in it
 *     has been released.  One wake-up per block, but a packet that
 *     arrives alone waits for the timeout (1 ms at least): for a packet of
 *     a flow the inspector must judge, that is added latency, twice per
 *     round trip.
 *
 * Transmit: frames of a fixed size, of the same TPACKET version.
 * fs_port_tx_burst() copies each packet into a free frame, marks it for
 * sending, and kicks the kernel once per burst with sendto(fd, NULL, 0,
 * MSG_DONTWAIT).  If the kernel refuses the transmit ring (before Linux
 * 4.11 there is none for TPACKET_V3), or the caller asks for it, the port
 * falls back to sendmmsg(): still one system call per burst, but one copy
 * into a socket buffer per packet; that is logged as a warning.
 *
 * The socket reads only what arrives on the interface, never what is sent
 * out of it, by this port or anyone else (PACKET_IGNORE_OUTGOING, Linux
 * 4.20; before that, a classic BPF filter on the packet type), and
 * bypasses the qdisc layer on transmit (PACKET_QDISC_BYPASS) where the
 * kernel allows.
 *
 * VLAN: the kernel strips a VLAN tag that the device took out of band
 * (veth does, by default) and reports it beside the packet.  For a bump
 * in the wire the tag must stay, so each port reserves 4 bytes of
 * headroom before every received packet (PACKET_RESERVE) and puts the tag
 * back in place, as Open vSwitch's netdev-linux does.
 */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* For sendmmsg(). */
#endif

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "fs-port-provider.h"

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define VLAN_HLEN 4
#define ETH_ADDRS_LEN 12        /* Destination and source MAC. */

/* Where the kernel reads a frame to transmit: right after the aligned
 * header (tp_hdrlen minus the sockaddr_ll that only receive uses). */
#define TX_DATA_OFFSET_V2 TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
#define TX_DATA_OFFSET_V3 TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

/* Bounds on the options. */
#define MIN_FRAME_SIZE 256
#define MAX_FRAME_SIZE 65536
#define MAX_RING_FRAMES (1u << 20)
#define MAX_BLOCK_SIZE (1u << 24)
#define MAX_BLOCK_TIMEOUT_MS 10000

struct afp_port {
    struct fs_port up;
    int fd;
    uint8_t *map;               /* Both rings, receive first. */
    size_t map_size;
    int version;                /* TPACKET_V2 or TPACKET_V3. */

    /* Receive ring, TPACKET_V2: 'rx_n_frames' frames of 'rx_frame_size'
     * bytes, 'rx_frames_per_block' to a block of 'rx_block_size' bytes.
     * The frames we hold are the 'held' from 'rel_frame' on; the next one
     * to read is 'rd_frame'. */
    unsigned int rx_frame_size;
    unsigned int rx_frames_per_block;
    unsigned int rx_n_frames;
    unsigned int rd_frame;
    unsigned int rel_frame;

    /* Receive ring, TPACKET_V3: 'rx_n_blocks' blocks of 'rx_block_size'
     * bytes.  The blocks we own (the kernel handed them over and we have
     * not given them back) are the 'n_owned' from 'rel_block' on; the
     * last of them is the one being read if 'rd_open'. */
    uint8_t *rx_ring;
    size_t rx_block_size;
    unsigned int rx_n_blocks;
    unsigned int rd_block;      /* Next block to take from the kernel. */
    bool rd_open;               /* Reading a block ('rd_left' > 0). */
    uint32_t rd_left;           /* Packets not yet read in it. */
    struct tpacket3_hdr *rd_pkt; /* The next of them. */
    unsigned int rel_block;     /* Oldest block we own. */
    uint32_t rel_done;          /* Its packets released so far. */
    unsigned int n_owned;

    unsigned int held;          /* Packets read and not released. */

    /* Transmit ring, or NULL to use sendmmsg(): 'tx_n_frames' frames of
     * 'tx_frame_size' bytes, 'tx_frames_per_block' to a block of
     * 'tx_block_size' bytes (the kernel's layout). */
    uint8_t *tx_ring;
    size_t tx_block_size;
    unsigned int tx_frame_size;
    unsigned int tx_frames_per_block;
    unsigned int tx_n_frames;
    unsigned int tx_head;       /* Next frame to fill. */
    unsigned int tx_data_offset; /* TX_DATA_OFFSET_V2 or _V3. */

    uint32_t mtu;
    uint32_t max_tx_len;
    int ifindex;                /* Of the device bound to. */
    struct fs_port_stats stats;
};

static struct afp_port *
afp_cast(const struct fs_port *port)
{
    return (struct afp_port *) port;
}

static size_t
round_up(size_t x, size_t y)
{
    return (x + y - 1) / y * y;
}

static uint32_t
load_acquire(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
store_release(uint32_t *p, uint32_t value)
{
    __atomic_store_n(p, value, __ATOMIC_RELEASE);
}

/* Setup. */

static int
set_int_opt(int fd, int opt, int value)
{
    return setsockopt(fd, SOL_PACKET, opt, &value, sizeof value) ? errno : 0;
}

/* Before Linux 4.20 there is no PACKET_IGNORE_OUTGOING: drop outgoing
 * packets with a classic BPF filter on the packet type instead. */
static int
ignore_outgoing_with_bpf(int fd)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, UINT32_MAX),
    };
    struct sock_fprog prog = {
        .len = sizeof code / sizeof code[0],
        .filter = code,
    };

    return (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog)
            ? errno : 0);
}

/* Checks the options and fills in defaults.  Returns 0 or EINVAL. */
static int
afp_check_options(struct fs_port_options *o)
{
    if (!o->tpacket_version) {
        o->tpacket_version = 2;
    }
    if (o->tpacket_version != 2 && o->tpacket_version != 3) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: tpacket_version=%u: want 2 "
                    "or 3", o->ifname, o->tpacket_version);
        return EINVAL;
    }
    if (o->tpacket_version == 2 && (o->block_size || o->block_timeout_ms)) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: block_size and "
                    "block_timeout_ms are for tpacket_version=3 only",
                    o->ifname);
        return EINVAL;
    }
    if (!o->ring_frames) {
        o->ring_frames = 1024;
    }
    if (!o->frame_size) {
        o->frame_size = 2048;
    }
    if (!o->block_size) {
        o->block_size = 64 * 1024;
    }
    if (!o->block_timeout_ms) {
        o->block_timeout_ms = 1;
    }
    if (o->ring_frames < 2 || o->ring_frames > MAX_RING_FRAMES) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: ring_frames=%u: want 2 to %u",
                    o->ifname, o->ring_frames, MAX_RING_FRAMES);
        return EINVAL;
    }
    if (o->frame_size < MIN_FRAME_SIZE || o->frame_size > MAX_FRAME_SIZE
        || o->frame_size % TPACKET_ALIGNMENT) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: frame_size=%u: want a multiple "
                    "of %d from %d to %d", o->ifname, o->frame_size,
                    TPACKET_ALIGNMENT, MIN_FRAME_SIZE, MAX_FRAME_SIZE);
        return EINVAL;
    }
    if (o->block_size > MAX_BLOCK_SIZE) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: block_size=%u: at most %u",
                    o->ifname, o->block_size, MAX_BLOCK_SIZE);
        return EINVAL;
    }
    if (o->block_timeout_ms > MAX_BLOCK_TIMEOUT_MS) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: block_timeout_ms=%u: at most %d",
                    o->ifname, o->block_timeout_ms, MAX_BLOCK_TIMEOUT_MS);
        return EINVAL;
    }
    return 0;
}

/* TPACKET_V2 or V3, with room for a VLAN tag before each received
 * frame. */
static int
afp_set_version(struct afp_port *p, const struct fs_port_options *o)
{
    int version = o->tpacket_version == 3 ? TPACKET_V3 : TPACKET_V2;
    int error = set_int_opt(p->fd, PACKET_VERSION, version);

    if (!error) {
        error = set_int_opt(p->fd, PACKET_RESERVE, VLAN_HLEN);
    }
    if (error) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: the kernel refuses TPACKET_V%u: "
                    "%s", o->ifname, o->tpacket_version, strerror(error));
        return error;
    }
    p->version = version;
    p->tx_data_offset = (version == TPACKET_V3
                         ? TX_DATA_OFFSET_V3 : TX_DATA_OFFSET_V2);
    return 0;
}

/* Bypass the qdisc layer on transmit (a warning without it), and never
 * read what is sent out of the interface: not by this socket (the kernel
 * never loops a socket's own packets back to it), and not by anyone else
 * (the local stack, another socket).  A side effect of the bypass:
 * packet taps such as tcpdump on the interface do not see what the port
 * sends. */
static int
afp_set_io_options(struct afp_port *p, const struct fs_port_options *o)
{
    int error;

    if (set_int_opt(p->fd, PACKET_QDISC_BYPASS, 1)) {
        fs_port_log(o, FS_PORT_LOG_WARN, "%s: no PACKET_QDISC_BYPASS: "
                    "transmitting through the qdisc layer", o->ifname);
    }
    if (set_int_opt(p->fd, PACKET_IGNORE_OUTGOING, 1)) {
        error = ignore_outgoing_with_bpf(p->fd);
        if (error) {
            fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot ignore outgoing "
                        "packets: %s", o->ifname, strerror(error));
            return error;
        }
        fs_port_log(o, FS_PORT_LOG_WARN, "%s: no PACKET_IGNORE_OUTGOING "
                    "(Linux < 4.20): filtering outgoing packets with BPF",
                    o->ifname);
    }
    return 0;
}

/* The geometry of a ring of at least 'ring_frames' frames, as many to a
 * block as fit in a page-rounded block of one frame or more: the transmit
 * ring, and the TPACKET_V2 receive ring.  Returns the frames per block. */
static unsigned int
frame_ring_req(const struct fs_port_options *o, struct tpacket_req3 *req)
{
    size_t block = round_up(o->frame_size, sysconf(_SC_PAGESIZE));
    unsigned int per_block = block / o->frame_size;

    memset(req, 0, sizeof *req);
    req->tp_block_size = block;
    req->tp_frame_size = o->frame_size;
    req->tp_block_nr = (o->ring_frames + per_block - 1) / per_block;
    req->tp_frame_nr = req->tp_block_nr * per_block;
    return per_block;
}

/* TPACKET_V2: 'ring_frames' frames (see frame_ring_req()). */
static int
afp_setup_rx_ring_v2(struct afp_port *p, const struct fs_port_options *o)
{
    struct tpacket_req3 req;

    /* The kernel reads a struct tpacket_req, the first members. */
    p->rx_frames_per_block = frame_ring_req(o, &req);
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req,
                   sizeof(struct tpacket_req))) {
        int error = errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot set up the receive ring "
                    "(%u frames of %u bytes): %s", o->ifname,
                    req.tp_frame_nr, req.tp_frame_size, strerror(error));
        return error;
    }
    p->rx_block_size = req.tp_block_size;
    p->rx_n_blocks = req.tp_block_nr;
    p->rx_frame_size = o->frame_size;
    p->rx_n_frames = req.tp_frame_nr;
    return 0;
}

/* Sets up the receive ring's geometry and asks the kernel for it. */
static int
afp_setup_rx_ring(struct afp_port *p, const struct fs_port_options *o)
{
    size_t page = sysconf(_SC_PAGESIZE);
    size_t block = o->block_size;
    size_t min_block = (TPACKET_ALIGN(sizeof(struct tpacket_block_desc))
                        + o->frame_size);
    struct tpacket_req3 req;
    size_t ring_bytes;

    if (p->version == TPACKET_V2) {
        return afp_setup_rx_ring_v2(p, o);
    }
    if (block < min_block) {
        block = min_block;
    }
    block = round_up(block, page);
    ring_bytes = (size_t) o->ring_frames * o->frame_size;

    memset(&req, 0, sizeof req);
    req.tp_block_size = block;
    req.tp_block_nr = (ring_bytes + block - 1) / block;
    if (req.tp_block_nr < 4) {
        req.tp_block_nr = 4;
    }
    req.tp_frame_size = o->frame_size;
    req.tp_frame_nr = block / o->frame_size * req.tp_block_nr;
    req.tp_retire_blk_tov = o->block_timeout_ms;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        int error = errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot set up the receive ring "
                    "(%u blocks of %u bytes): %s", o->ifname,
                    req.tp_block_nr, req.tp_block_size, strerror(error));
        return error;
    }
    p->rx_block_size = block;
    p->rx_n_blocks = req.tp_block_nr;
    return 0;
}

/* Sets up the transmit ring, or leaves 'p->tx_n_frames' 0 for sendmmsg().
 * Never fails: the fallback works everywhere. */
static void
afp_setup_tx_ring(struct afp_port *p, const struct fs_port_options *o)
{
    struct tpacket_req3 req;

    if (o->no_tx_ring) {
        fs_port_log(o, FS_PORT_LOG_INFO, "%s: transmitting with sendmmsg(), "
                    "as asked", o->ifname);
        return;
    }

    /* A TPACKET_V3 socket wants a whole struct tpacket_req3; a V2 socket
     * reads the first members. */
    p->tx_frames_per_block = frame_ring_req(o, &req);
    if (setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)) {
        fs_port_log(o, FS_PORT_LOG_WARN, "%s: no TPACKET_V%u transmit ring "
                    "(%s): transmitting with sendmmsg(), one copy per packet",
                    o->ifname, o->tpacket_version, strerror(errno));
        return;
    }
    /* Let the kernel skip a malformed frame instead of stopping the ring
     * on it with TP_STATUS_WRONG_FORMAT. */
    set_int_opt(p->fd, PACKET_LOSS, 1);

    p->tx_block_size = req.tp_block_size;
    p->tx_frame_size = o->frame_size;
    p->tx_n_frames = req.tp_frame_nr; /* afp_map_rings() sets 'tx_ring'. */
}

static int
afp_map_rings(struct afp_port *p, const struct fs_port_options *o)
{
    size_t rx_size = p->rx_block_size * p->rx_n_blocks;
    size_t tx_size = (p->tx_n_frames
                      ? p->tx_n_frames / p->tx_frames_per_block
                        * p->tx_block_size
                      : 0);

    p->map_size = rx_size + tx_size;
    p->map = mmap(NULL, p->map_size, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_POPULATE, p->fd, 0);
    if (p->map == MAP_FAILED) {
        int error = errno;
        p->map = NULL;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot map %zu bytes of rings: "
                    "%s", o->ifname, p->map_size, strerror(error));
        return error;
    }
    p->rx_ring = p->map;
    p->tx_ring = p->tx_n_frames ? p->map + rx_size : NULL;
    return 0;
}

static int
afp_bind(struct afp_port *p, const struct fs_port_options *o, int ifindex)
{
    struct packet_mreq mreq;
    struct sockaddr_ll sll;
    int error;

    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                   &mreq, sizeof mreq)) {
        error = errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot make it promiscuous: %s",
                    o->ifname, strerror(error));
        return error;
    }

    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(p->fd, (struct sockaddr *) &sll, sizeof sll)) {
        error = errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot bind to it: %s",
                    o->ifname, strerror(error));
        return error;
    }
    return 0;
}

static void afp_close(struct fs_port *);

/* The socket is created with protocol 0, so it receives nothing until
 * bind() at the end, when the rings and options are in place. */
static int
afp_open(const struct fs_port_options *options, struct fs_port **portp)
{
    struct fs_port_options o = *options;
    struct afp_port *p;
    int ifindex = 0;
    int error;

    error = afp_check_options(&o);
    if (error) {
        return error;
    }

    p = calloc(1, sizeof *p);
    if (!p) {
        return ENOMEM;
    }
    fs_port_init(&p->up, &fs_port_afpacket_class, o.ifname);
    p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (p->fd < 0) {
        error = errno;
        fs_port_log(&o, FS_PORT_LOG_ERR, "%s: cannot open a packet socket%s: "
                    "%s", o.ifname,
                    error == EPERM ? " (needs CAP_NET_RAW)" : "",
                    strerror(error));
        goto error;
    }

    error = fs_port_query_interface(p->fd, &o, &ifindex, &p->mtu);
    if (error) {
        goto error;
    }

    error = afp_set_version(p, &o);
    if (!error) {
        error = afp_setup_rx_ring(p, &o);
    }
    if (!error) {
        afp_setup_tx_ring(p, &o);
        error = afp_map_rings(p, &o);
    }
    if (!error) {
        error = afp_set_io_options(p, &o);
    }
    if (error) {
        goto error;
    }

    error = afp_bind(p, &o, ifindex);
    if (error) {
        goto error;
    }
    p->ifindex = ifindex;

    p->max_tx_len = o.frame_size - p->tx_data_offset;
    if (p->max_tx_len > p->mtu + ETH_HLEN + VLAN_HLEN) {
        p->max_tx_len = p->mtu + ETH_HLEN + VLAN_HLEN;
    }
    if (p->version == TPACKET_V2) {
        fs_port_log(&o, FS_PORT_LOG_INFO, "%s: afpacket port: TPACKET_V2 "
                    "receive ring %u frames of %u bytes, MTU %u", o.ifname,
                    p->rx_n_frames, p->rx_frame_size, p->mtu);
    } else {
        fs_port_log(&o, FS_PORT_LOG_INFO, "%s: afpacket port: TPACKET_V3 "
                    "receive ring %u blocks of %zu bytes (timeout %u ms), "
                    "MTU %u", o.ifname, p->rx_n_blocks, p->rx_block_size,
                    o.block_timeout_ms, p->mtu);
    }
    if (p->tx_ring) {
        fs_port_log(&o, FS_PORT_LOG_INFO, "%s: transmit ring %u frames of "
                    "%u bytes", o.ifname, p->tx_n_frames, p->tx_frame_size);
    }
    *portp = &p->up;
    return 0;

error:
    afp_close(&p->up);
    return error;
}

static void
afp_close(struct fs_port *port)
{
    struct afp_port *p = afp_cast(port);

    if (p->map) {
        munmap(p->map, p->map_size);
    }
    if (p->fd >= 0) {
        close(p->fd);
    }
    free(p);
}

static int
afp_fd(const struct fs_port *port)
{
    return afp_cast(port)->fd;
}

/* Receive. */

static struct tpacket_block_desc *
rx_block(const struct afp_port *p, unsigned int i)
{
    return (struct tpacket_block_desc *) (p->rx_ring + i * p->rx_block_size);
}

static unsigned int
rx_next_block(const struct afp_port *p, unsigned int i)
{
    return i + 1 < p->rx_n_blocks ? i + 1 : 0;
}

static struct tpacket2_hdr *
rx_frame(const struct afp_port *p, unsigned int i)
{
    return (struct tpacket2_hdr *)
        (p->rx_ring + (i / p->rx_frames_per_block) * p->rx_block_size
         + (i % p->rx_frames_per_block) * p->rx_frame_size);
}

static unsigned int
rx_next_frame(const struct afp_port *p, unsigned int i)
{
    return i + 1 < p->rx_n_frames ? i + 1 : 0;
}

/* TPACKET_V2: gives the 'n' oldest held frames (or all) back. */
static void
afp_rx_release_v2(struct afp_port *p, unsigned int n)
{
    if (n > p->held) {
        n = p->held;
    }
    p->held -= n;
    while (n--) {
        store_release(&rx_frame(p, p->rel_frame)->tp_status,
                      TP_STATUS_KERNEL);
        p->rel_frame = rx_next_frame(p, p->rel_frame);
    }
}

/* Releases the 'n' oldest held packets (or all).  TPACKET_V3: then gives
 * back to the kernel every leading block whose packets have all been
 * released. */
static void
afp_rx_release(struct fs_port *port, unsigned int n)
{
    struct afp_port *p = afp_cast(port);

    if (p->version == TPACKET_V2) {
        afp_rx_release_v2(p, n);
        return;
    }
    if (n > p->held) {
        n = p->held;
    }
    p->held -= n;
    while (p->n_owned) {
        struct tpacket_block_desc *bd = rx_block(p, p->rel_block);
        uint32_t total = bd->hdr.bh1.num_pkts;
        uint32_t take = total - p->rel_done < n ? total - p->rel_done : n;

        p->rel_done += take;
        n -= take;
        if (p->rel_done < total || (p->rd_open && p->n_owned == 1)) {
            break;
        }
        store_release(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL);
        p->rel_block = rx_next_block(p, p->rel_block);
        p->rel_done = 0;
        p->n_owned--;
    }
}

/* What afp_rx_fill() needs of a ring entry, either version. */
struct rx_entry {
    uint8_t *frame;             /* The entry's header. */
    uint32_t status, len, caplen;
    uint32_t mac, hdrlen;       /* Offset of the data, and least offset. */
    uint32_t sec, nsec;
    uint16_t vlan_tci, vlan_tpid;
};

/* Fills 'pkt' from the ring entry 'e', putting back a VLAN tag that the
 * kernel reported out of band. */
static void
afp_rx_fill(struct afp_port *p, const struct rx_entry *e,
            struct fs_pkt_ref *pkt)
{
    uint8_t *data = e->frame + e->mac;
    uint32_t status = e->status;
    uint32_t len = e->len;
    uint32_t caplen = e->caplen;

    if (status & TP_STATUS_VLAN_VALID && caplen >= ETH_ADDRS_LEN
        && e->mac >= e->hdrlen + VLAN_HLEN) {
        uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID
                         ? e->vlan_tpid : ETH_P_8021Q);
        uint16_t tag[2] = { htons(tpid), htons(e->vlan_tci) };

        memmove(data - VLAN_HLEN, data, ETH_ADDRS_LEN);
        data -= VLAN_HLEN;
        memcpy(data + ETH_ADDRS_LEN, tag, sizeof tag);
        len += VLAN_HLEN;
        caplen += VLAN_HLEN;
    }

    pkt->data = data;
    pkt->len = len;
    pkt->caplen = caplen;
    pkt->ts_ns = e->sec * UINT64_C(1000000000) + e->nsec;
    pkt->flags = status & TP_STATUS_CSUMNOTREADY ? FS_PKT_CSUM_PARTIAL : 0;
    pkt->port = &p->up;
    pkt->handle = NULL;

    p->stats.rx_packets++;
    p->stats.rx_bytes += len;
    if (caplen < len) {
        p->stats.rx_errors++;
    }
}

/* TPACKET_V2: takes the frames the kernel has filled, in ring order. */
static unsigned int
afp_rx_burst_v2(struct afp_port *p, struct fs_pkt_ref pkts[], unsigned int n)
{
    unsigned int count = 0;

    while (count < n && p->held < p->rx_n_frames) {
        struct tpacket2_hdr *h = rx_frame(p, p->rd_frame);
        uint32_t status = load_acquire(&h->tp_status);
        struct rx_entry e;

        if (!(status & TP_STATUS_USER)) {
            break;
        }
        e.frame = (uint8_t *) h;
        e.status = status;
        e.len = h->tp_len;
        e.caplen = h->tp_snaplen;
        e.mac = h->tp_mac;
        e.hdrlen = TPACKET2_HDRLEN;
        e.sec = h->tp_sec;
        e.nsec = h->tp_nsec;
        e.vlan_tci = h->tp_vlan_tci;
        e.vlan_tpid = h->tp_vlan_tpid;
        afp_rx_fill(p, &e, &pkts[count++]);
        p->held++;
        p->rd_frame = rx_next_frame(p, p->rd_frame);
        __builtin_prefetch((uint8_t *) rx_frame(p, p->rd_frame)
                           + TPACKET2_HDRLEN);
    }
    return count;
}

static unsigned int
afp_rx_burst(struct fs_port *port, struct fs_pkt_ref pkts[], unsigned int n)
{
    struct afp_port *p = afp_cast(port);
    unsigned int count = 0;

    afp_rx_release(port, UINT_MAX);
    if (p->version == TPACKET_V2) {
        return afp_rx_burst_v2(p, pkts, n);
    }
    while (count < n) {
        struct tpacket3_hdr *h;
        struct rx_entry e;

        if (!p->rd_open) {
            struct tpacket_block_desc *bd = rx_block(p, p->rd_block);

            if (p->n_owned == p->rx_n_blocks
                || !(load_acquire(&bd->hdr.bh1.block_status)
                     & TP_STATUS_USER)) {
                break;
            }
            p->n_owned++;
            p->rd_block = rx_next_block(p, p->rd_block);
            p->rd_left = bd->hdr.bh1.num_pkts;
            if (!p->rd_left) {
                /* The kernel does not hand over empty blocks, but if it
                 * did, this gives it back in turn. */
                afp_rx_release(port, 0);
                continue;
            }
            p->rd_open = true;
            p->rd_pkt = (struct tpacket3_hdr *)
                ((uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt);
        }

        h = p->rd_pkt;
        e.frame = (uint8_t *) h;
        e.status = h->tp_status;
        e.len = h->tp_len;
        e.caplen = h->tp_snaplen;
        e.mac = h->tp_mac;
        e.hdrlen = TPACKET3_HDRLEN;
        e.sec = h->tp_sec;
        e.nsec = h->tp_nsec;
        e.vlan_tci = h->hv1.tp_vlan_tci;
        e.vlan_tpid = h->hv1.tp_vlan_tpid;
        afp_rx_fill(p, &e, &pkts[count++]);
        p->held++;
        if (--p->rd_left) {
            p->rd_pkt = (struct tpacket3_hdr *)
                ((uint8_t *) h + h->tp_next_offset);
            __builtin_prefetch((uint8_t *) p->rd_pkt + p->rd_pkt->tp_mac);
        } else {
            p->rd_open = false;
        }
    }
    return count;
}

/* Transmit. */

static uint8_t *
tx_frame(const struct afp_port *p, unsigned int i)
{
    return (p->tx_ring + (i / p->tx_frames_per_block) * p->tx_block_size
         + (i % p->tx_frames_per_block) * p->tx_frame_size);
}

/* Asks the kernel to send every frame marked TP_STATUS_SEND_REQUEST.
 * Frames left behind by a failure go out with the next kick. */
static void
afp_tx_kick(struct afp_port *p)
{
    while (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
        if (errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                p->stats.tx_errors++;
            }
            break;
        }
    }
}

static unsigned int
afp_tx_ring(struct afp_port *p, const struct fs_pkt_ref pkts[], unsigned int n)
{
    unsigned int queued = 0;
    bool kick = false;
    unsigned int i;

    for (i = 0; i < n; i++) {
        const struct fs_pkt_ref *pkt = &pkts[i];
        uint32_t *statusp;
        uint32_t status;
        uint8_t *frame;

        if (!fs_port_tx_ok(pkt, p->mtu, p->max_tx_len)) {
            p->stats.tx_dropped++;
            continue;
        }
        frame = tx_frame(p, p->tx_head);
        statusp = (p->version == TPACKET_V2
                   ? &((struct tpacket2_hdr *) frame)->tp_status
                   : &((struct tpacket3_hdr *) frame)->tp_status);
        status = load_acquire(statusp);
        if (status != TP_STATUS_AVAILABLE) {
            /* Full.  Frames still marked for sending (an earlier kick
             * failed, e.g. EAGAIN) need a kick, or they wait forever;
             * frames being sent come back by themselves. */
            if (status & TP_STATUS_SEND_REQUEST) {
                kick = true;
            }
            break;
        }
        memcpy(frame + p->tx_data_offset, pkt->data, pkt->len);
        if (p->version == TPACKET_V2) {
            struct tpacket2_hdr *h = (struct tpacket2_hdr *) frame;

            h->tp_len = pkt->len;
            h->tp_snaplen = pkt->len;
        } else {
            struct tpacket3_hdr *h = (struct tpacket3_hdr *) frame;

            h->tp_next_offset = 0;
            h->tp_len = pkt->len;
            h->tp_snaplen = pkt->len;
        }
        store_release(statusp, TP_STATUS_SEND_REQUEST);
        p->tx_head = p->tx_head + 1 < p->tx_n_frames ? p->tx_head + 1 : 0;
        p->stats.tx_packets++;
        p->stats.tx_bytes += pkt->len;
        if (++queued == FS_PORT_BURST) {
            afp_tx_kick(p);
            queued = 0;
        }
    }
    if (queued || kick) {
        afp_tx_kick(p);
    }
    return i;
}

/* Without a transmit ring: one sendmmsg() per burst.  The socket is bound,
 * so no destination address is needed. */
static unsigned int
afp_tx_sendmmsg(struct afp_port *p, const struct fs_pkt_ref pkts[],
                unsigned int n)
{
    struct mmsghdr msgs[FS_PORT_BURST];
    struct iovec iovs[FS_PORT_BURST];
    unsigned int i = 0;

    while (i < n) {
        unsigned int k = 0;
        int r;

        while (k < FS_PORT_BURST && i + k < n
               && fs_port_tx_ok(&pkts[i + k], p->mtu, p->max_tx_len)) {
            iovs[k].iov_base = pkts[i + k].data;
            iovs[k].iov_len = pkts[i + k].len;
            memset(&msgs[k], 0, sizeof msgs[k]);
            msgs[k].msg_hdr.msg_iov = &iovs[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
            k++;
        }
        if (!k) {
            p->stats.tx_dropped++; /* pkts[i] is not sendable. */
            i++;
            continue;
        }

        r = sendmmsg(p->fd, msgs, k, MSG_DONTWAIT);
        if (r > 0) {
            for (int j = 0; j < r; j++) {
                p->stats.tx_bytes += pkts[i + j].len;
            }
            p->stats.tx_packets += r;
            i += r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;              /* Socket buffer full: not consumed. */
        } else {
            /* The kernel refused pkts[i] (e.g. ENOBUFS: dropped by the
             * device; ENETDOWN): consumed, but not sent. */
            p->stats.tx_errors++;
            p->stats.tx_dropped++;
            i++;
        }
    }
    return i;
}

static unsigned int
afp_tx_burst(struct fs_port *port, const struct fs_pkt_ref pkts[],
             unsigned int n)
{
    struct afp_port *p = afp_cast(port);

    return (p->tx_ring
            ? afp_tx_ring(p, pkts, n)
            : afp_tx_sendmmsg(p, pkts, n));
}

static uint32_t
afp_max_tx_len(const struct fs_port *port)
{
    return afp_cast(port)->max_tx_len;
}

/* Statistics. */

static void
afp_get_stats(struct fs_port *port, struct fs_port_stats *stats)
{
    struct afp_port *p = afp_cast(port);
    struct tpacket_stats_v3 kstats;
    socklen_t len = sizeof kstats;

    /* The kernel resets its counters on each read. */
    if (!getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &kstats, &len)) {
        p->stats.rx_dropped += kstats.tp_drops;
    }
    *stats = p->stats;
}

static int
afp_check(struct fs_port *port)
{
    struct afp_port *p = afp_cast(port);

    return fs_port_check_socket(port, p->fd, p->fd, p->ifindex);
}

const struct fs_port_class fs_port_afpacket_class = {
    .type = "afpacket",
    .open = afp_open,
    .close = afp_close,
    .fd = afp_fd,
    .rx_burst = afp_rx_burst,
    .rx_release = afp_rx_release,
    .tx_burst = afp_tx_burst,
    .max_tx_len = afp_max_tx_len,
    .get_stats = afp_get_stats,
    .check = afp_check,
};
