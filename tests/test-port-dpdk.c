/* Unit tests of the dpdk port backend (dpdk-pmd/fs-port-dpdk.c) over
 * net_ring, net_pcap and vhost devices: no hardware, no hugepages
 * (--no-huge), no OVS.
 *
 * Two ports made from a pair of rings, each transmitting into the other's
 * receive ring, carry packets intact and in order with counters that add
 * up; a received packet is transmitted by reference (the same mbuf comes
 * back, with one more reference while both hold it), a packet the caller
 * made or changed is copied; running out of mbufs drops and counts, on
 * transmit and (net_pcap) on receive; a full device leaves packets
 * unconsumed; a link set down is ENETDOWN; bad options are refused with a
 * message, not an abort.  And virtio_user, the device that reaches Open
 * vSwitch, against a vhost-user server in the same process.
 *
 * The EAL runs with --file-prefix=fsdpdk-PID and --no-shconf, and its
 * run directory is removed at the end. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fs-port.h"
#include "test-util.h"

static char eal_args[256];
static char last_err[512];      /* The last error logged. */
static char all_msgs[8192];     /* Every message since reset_msgs(). */

static void
reset_msgs(void)
{
    all_msgs[0] = '\0';
}

static void
log_cb(void *aux, enum fs_port_log_level level, const char *msg)
{
    fprintf(stderr, "  [%s] %s\n", level == FS_PORT_LOG_ERR ? "err"
            : level == FS_PORT_LOG_WARN ? "warn" : "info", msg);
    if (level == FS_PORT_LOG_ERR) {
        snprintf(last_err, sizeof last_err, "%s", msg);
    }
    size_t len = strlen(all_msgs);
    snprintf(all_msgs + len, sizeof all_msgs - len, "%s\n", msg);
}

/* Options for a dpdk port named 'ifname' probed from 'devargs' (or an
 * existing ethdev if NULL), with the test's EAL arguments. */
static struct fs_port_options
dpdk_options(const char *ifname, const char *devargs)
{
    struct fs_port_options o = FS_PORT_OPTIONS_INIT;

    o.backend = "dpdk";
    o.ifname = ifname;
    o.dpdk_devargs = devargs;
    o.dpdk_eal_args = eal_args;
    o.dpdk_mem_mb = 256;
    o.log = log_cb;
    return o;
}

static int
open_port(const struct fs_port_options *o, struct fs_port **portp)
{
    last_err[0] = '\0';
    return fs_port_open(o, portp);
}

/* Fills 'buf' with a frame of 'len' bytes numbered 'seq'. */
static void
make_frame(uint8_t *buf, uint32_t len, uint32_t seq)
{
    static const uint8_t hdr[14] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5,
    };

    memcpy(buf, hdr, sizeof hdr);
    for (uint32_t i = sizeof hdr; i < len; i++) {
        buf[i] = (uint8_t) (seq * 7 + i);
    }
    memcpy(buf + sizeof hdr, &seq, sizeof seq);
}

static struct fs_pkt_ref
caller_pkt(uint8_t *buf, uint32_t len)
{
    struct fs_pkt_ref pkt = { .data = buf, .len = len, .caplen = len };
    return pkt;
}

/* Fills pkts[0 .. n-1] with the same 60-byte frame, made by the caller. */
static void
fill_60(struct fs_pkt_ref pkts[], unsigned int n)
{
    static uint8_t buf[60];

    make_frame(buf, 60, 0);
    for (unsigned int i = 0; i < n; i++) {
        pkts[i] = caller_pkt(buf, 60);
    }
}

/* Receives everything waiting on 'port', 'n' at a time, and returns how
 * many. */
static unsigned int
drain_count(struct fs_port *port, unsigned int n)
{
    struct fs_pkt_ref pkts[256];
    unsigned int got = 0, k;

    while ((k = fs_port_rx_burst(port, pkts, n))) {
        got += k;
    }
    return got;
}

/* Receives everything waiting on 'port' (releasing as it goes) and
 * returns how many; checks that they are frames 'first', 'first' + 1, ...
 * of the lengths len_of() gives, intact. */
static unsigned int
drain_check(struct fs_port *port, uint32_t first,
            uint32_t (*len_of)(uint32_t))
{
    static uint8_t want[2048];
    struct fs_pkt_ref pkts[FS_PORT_BURST];
    unsigned int total = 0, n;
    int bad = 0;

    while ((n = fs_port_rx_burst(port, pkts, FS_PORT_BURST))) {
        for (unsigned int i = 0; i < n; i++) {
            uint32_t seq = first + total + i;
            uint32_t len = len_of(seq);

            make_frame(want, len, seq);
            bad += (pkts[i].len != len || pkts[i].caplen != len
                    || memcmp(pkts[i].data, want, len)
                    || pkts[i].port != port || !pkts[i].handle);
        }
        total += n;
    }
    CHECK_INT(bad, 0);
    return total;
}

static uint32_t
len_varied(uint32_t seq)
{
    return 60 + seq * 37 % 1455;
}

static uint32_t
len_60(uint32_t seq)
{
    return 60;
}

/* Bad options, before the EAL is up: no EAL arguments; no hugepages;
 * arguments the EAL refuses; a bad frame size. */
static void
test_bad_options_before_eal(void)
{
    struct fs_port_options o = dpdk_options("r0", "net_ring0");
    struct fs_port *port = (struct fs_port *) &o;

    o.dpdk_eal_args = NULL;
    CHECK_INT(open_port(&o, &port), EINVAL);
    CHECK(port == NULL);
    CHECK(strstr(last_err, "no EAL arguments") != NULL);

    o = dpdk_options("r0", "net_ring0");
    o.frame_size = 100;
    CHECK_INT(open_port(&o, &port), EINVAL);
    CHECK(strstr(last_err, "frame_size=100") != NULL);

    o = dpdk_options("r0", "net_ring0");
    o.tpacket_version = 3;
    CHECK_INT(open_port(&o, &port), EINVAL);


    /* Without --no-huge, on a system without hugepages (as in CI). */
    if (system("cat /sys/kernel/mm/hugepages/*/free_hugepages 2>/dev/null "
               "| grep -qv '^0$'")) {
        o = dpdk_options("r0", "net_ring0");
        o.dpdk_eal_args = "--no-shconf";
        CHECK_INT(open_port(&o, &port), ENOMEM);
        CHECK(strstr(last_err, "hugepages") != NULL);
    } else {
        printf("(hugepages present: not testing the no-hugepages error)\n");
    }
}

/* Arguments the EAL refuses: EINVAL, then and for every later port, since
 * the EAL cannot be started again.  In a child process, whose EAL is then
 * useless; the parent has not started its own yet. */
static void
test_bad_eal_args(void)
{
    pid_t pid = fork();
    int status;

    if (!pid) {
        struct fs_port_options o = dpdk_options("r0", "net_ring0");
        struct fs_port *port;
        int bad = 0;

        char bad_args[sizeof eal_args + 32];

        snprintf(bad_args, sizeof bad_args, "%s --no-such-eal-option",
                 eal_args);
        o.dpdk_eal_args = bad_args;
        bad += open_port(&o, &port) != EINVAL;
        bad += !strstr(last_err, "EAL would not start");
        o.dpdk_eal_args = eal_args;
        bad += open_port(&o, &port) != EINVAL;
        bad += !strstr(last_err, "cannot be started again");
        _exit(bad);
    }
    CHECK(pid > 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
}

/* The first port sets the EAL up; a loopback net_ring0 returns what it
 * sends.  Then bad options with the EAL up. */
static struct fs_port *loop_port;

static void
test_eal_and_loopback(void)
{
    struct fs_port_options o = dpdk_options("loop", "net_ring0");
    struct fs_pkt_ref pkts[FS_PORT_BURST];
    uint8_t bufs[5][60];
    struct fs_port_stats s;

    CHECK_INT(open_port(&o, &loop_port), 0);
    if (!loop_port) {
        return;
    }
    CHECK(fs_port_is_pmd(loop_port));
    CHECK_INT(fs_port_fd(loop_port), -1);
    CHECK_STR(fs_port_backend(loop_port), "dpdk");
    CHECK_STR(fs_port_ifname(loop_port), "loop");
    CHECK_INT(fs_port_check(loop_port), 0);
    CHECK_INT(fs_port_max_tx_len(loop_port), 1518);

    for (int i = 0; i < 5; i++) {
        make_frame(bufs[i], 60, i);
        pkts[i] = caller_pkt(bufs[i], 60);
    }
    CHECK_INT(fs_port_tx_burst(loop_port, pkts, 5), 5);
    CHECK_INT(drain_check(loop_port, 0, len_60), 5);
    fs_port_get_stats(loop_port, &s);
    CHECK_INT(s.tx_packets, 5);
    CHECK_INT(s.rx_packets, 5);
}

static void
test_bad_options_after_eal(void)
{
    struct fs_port_options o;
    struct fs_port *port;

    o = dpdk_options("other", "net_ring1");
    o.dpdk_eal_args = "--no-huge";
    CHECK_INT(open_port(&o, &port), EINVAL);
    CHECK(strstr(last_err, "already set up") != NULL);

    /* Later ports may leave the EAL arguments out. */
    o = dpdk_options("r1", "net_ring1");
    o.dpdk_eal_args = NULL;
    o.dpdk_mem_mb = 0;
    CHECK_INT(open_port(&o, &port), 0);
    fs_port_close(port);

    o = dpdk_options("bad", "net_nosuchdriver0");
    CHECK_INT(open_port(&o, &port), ENODEV);
    CHECK(strstr(last_err, "cannot probe") != NULL);

    o = dpdk_options("bad", "net_ring2,nodeaction=bogus");
    int error = open_port(&o, &port);
    CHECK(error == EINVAL || error == ENODEV);
    CHECK(last_err[0] != '\0');

    o = dpdk_options("nosuchport", NULL);
    CHECK_INT(open_port(&o, &port), ENODEV);
    CHECK(strstr(last_err, "no DPDK ethdev") != NULL);

    o = dpdk_options("again", "net_ring0");
    CHECK_INT(open_port(&o, &port), EBUSY);
    CHECK(loop_port && fs_port_check(loop_port) == 0);
}

/* Two ports over a pair of rings: what one sends, the other receives.
 * rte_eth_from_rings() names them "net_ring_" + 'name_a' or 'name_b'. */
static struct fs_port *
open_ring_pair(const char *name_a, const char *name_b, unsigned int size,
               unsigned int ring_frames, struct fs_port **bp)
{
    const char *names[2] = { name_a, name_b };
    struct rte_ring *rings[2];  /* a to b, b to a. */
    struct fs_port *ports[2] = { NULL, NULL };

    for (int i = 0; i < 2; i++) {
        char ring_name[32];

        snprintf(ring_name, sizeof ring_name, "fs_%s_tx", names[i]);
        rings[i] = rte_ring_create(ring_name, size, SOCKET_ID_ANY,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
        CHECK(rings[i] != NULL);
    }
    for (int i = 0; i < 2; i++) {
        int id = rte_eth_from_rings(names[i], &rings[!i], 1, &rings[i], 1,
                                    0);
        char ifname[RTE_ETH_NAME_MAX_LEN];
        struct fs_port_options o = dpdk_options(ifname, NULL);

        CHECK(id >= 0);
        if (id < 0 || rte_eth_dev_get_name_by_port(id, ifname)) {
            break;
        }
        o.ring_frames = ring_frames;
        CHECK_INT(open_port(&o, &ports[i]), 0);
    }
    *bp = ports[1];
    return ports[0];
}

static void
test_pair_in_order(void)
{
    struct fs_port *b = NULL, *a = open_ring_pair("ringA", "ringB", 4096,
                                                  0, &b);
    static uint8_t bufs[100][1600];
    struct fs_pkt_ref pkts[100];
    struct fs_port_stats sa, sb;
    uint64_t bytes = 0;

    if (!a || !b) {
        return;
    }
    for (uint32_t i = 0; i < 100; i++) {
        make_frame(bufs[i], len_varied(i), i);
        pkts[i] = caller_pkt(bufs[i], len_varied(i));
        bytes += len_varied(i);
    }
    /* More than a burst in one call. */
    CHECK_INT(fs_port_tx_burst(a, pkts, 100), 100);
    CHECK_INT(drain_check(b, 0, len_varied), 100);
    CHECK_INT(drain_check(a, 0, len_varied), 0);

    fs_port_get_stats(a, &sa);
    fs_port_get_stats(b, &sb);
    CHECK_INT(sa.tx_packets, 100);
    CHECK_INT(sa.tx_bytes, bytes);
    CHECK_INT(sb.rx_packets, 100);
    CHECK_INT(sb.rx_bytes, bytes);
    CHECK_INT(sa.tx_dropped + sa.tx_errors + sa.tx_busy, 0);
    CHECK_INT(sb.rx_dropped + sb.rx_errors, 0);

    /* Too long, and truncated: dropped, counted, consumed. */
    pkts[0] = caller_pkt(bufs[0], fs_port_max_tx_len(a) + 1);
    pkts[1] = caller_pkt(bufs[1], 200);
    pkts[1].caplen = 100;
    pkts[2] = caller_pkt(bufs[2], 10);
    CHECK_INT(fs_port_tx_burst(a, pkts, 3), 3);
    fs_port_get_stats(a, &sa);
    CHECK_INT(sa.tx_dropped, 3);
    CHECK_INT(sa.tx_packets, 100);
    CHECK_INT(drain_check(b, 0, len_varied), 0);

    /* A link set down is ENETDOWN. */
    uint16_t id;
    CHECK_INT(rte_eth_dev_get_port_by_name("net_ring_ringA", &id), 0);
    CHECK_INT(rte_eth_dev_set_link_down(id), 0);
    CHECK_INT(fs_port_check(a), ENETDOWN);
    CHECK_INT(rte_eth_dev_set_link_up(id), 0);
    CHECK_INT(fs_port_check(a), 0);

    fs_port_close(a);
    fs_port_close(b);
}

/* A packet received on one port and sent on another goes by reference;
 * one the caller made or changed is copied. */
static void
test_zero_copy(void)
{
    struct fs_port *b = NULL, *a = open_ring_pair("zcA", "zcB", 1024, 0, &b);
    struct fs_pkt_ref pkts[FS_PORT_BURST], back[FS_PORT_BURST];
    uint8_t buf[200];
    struct rte_mbuf *m;

    if (!a || !b) {
        return;
    }
    make_frame(buf, 200, 1);
    pkts[0] = caller_pkt(buf, 200);
    CHECK_INT(fs_port_tx_burst(a, pkts, 1), 1);
    CHECK_INT(fs_port_rx_burst(b, pkts, FS_PORT_BURST), 1);
    m = pkts[0].handle;
    CHECK(m != NULL);
    CHECK_INT(rte_mbuf_refcnt_read(m), 1);

    /* Zero copy: b sends the mbuf it received; a receives it. */
    pkts[0].data[20] ^= 0xff;   /* Changing bytes in place is fine. */
    CHECK_INT(fs_port_tx_burst(b, pkts, 1), 1);
    CHECK_INT(rte_mbuf_refcnt_read(m), 2);
    fs_port_rx_release(b, 1);
    CHECK_INT(rte_mbuf_refcnt_read(m), 1);
    CHECK_INT(fs_port_rx_burst(a, back, FS_PORT_BURST), 1);
    CHECK(back[0].handle == m);
    CHECK_INT(back[0].len, 200);
    CHECK_INT(back[0].data[20], buf[20] ^ 0xff);

    /* Not as received (shortened): copied, the original untouched. */
    back[0].len = 199;
    back[0].caplen = 199;
    CHECK_INT(fs_port_tx_burst(a, back, 1), 1);
    CHECK_INT(rte_mbuf_refcnt_read(m), 1);
    fs_port_rx_release(a, 1);
    CHECK_INT(fs_port_rx_burst(b, pkts, FS_PORT_BURST), 1);
    CHECK(pkts[0].handle != NULL);
    CHECK_INT(pkts[0].len, 199);
    CHECK(!memcmp(pkts[0].data + 21, buf + 21, 199 - 21));

    /* Handles of another backend, or none, are copies too: the generic
     * layer cannot tell. */
    struct fs_pkt_ref fake = caller_pkt(buf, 200);
    fake.handle = m;            /* Without 'port': not trusted. */
    CHECK_INT(fs_port_tx_burst(b, &fake, 1), 1);
    fs_port_rx_release(b, UINT32_MAX);
    CHECK_INT(fs_port_rx_burst(a, back, FS_PORT_BURST), 1);
    CHECK(back[0].handle != m);
    fs_port_rx_release(a, UINT32_MAX);

    /* The close message counts what went by reference. */
    reset_msgs();
    fs_port_close(b);
    CHECK(strstr(all_msgs, "2 packets, 1 of them zero copy") != NULL);
    fs_port_close(a);
}

/* Out of mbufs: a port with a pool of 2 * 16 + 64 = 96 mbufs copies 200
 * packets into a ring nobody reads: 96 go, 104 are dropped and counted,
 * all consumed.  Once the peer has read them, copies work again. */
static void
test_nombuf(void)
{
    struct fs_port *b = NULL, *a = open_ring_pair("nbA", "nbB", 4096, 16,
                                                  &b);
    struct fs_pkt_ref pkts[200];
    struct fs_port_stats s;

    if (!a || !b) {
        return;
    }
    fill_60(pkts, 200);
    CHECK_INT(fs_port_tx_burst(a, pkts, 200), 200);
    fs_port_get_stats(a, &s);
    CHECK_INT(s.tx_packets, 96);
    CHECK_INT(s.tx_dropped, 104);
    CHECK_INT(s.tx_busy, 0);

    /* b's receive array holds at most 32 (FS_PORT_BURST) at a time. */
    CHECK_INT(drain_count(b, 200), 96);
    fill_60(pkts, 10);
    CHECK_INT(fs_port_tx_burst(a, pkts, 10), 10);
    fs_port_get_stats(a, &s);
    CHECK_INT(s.tx_packets, 106);
    CHECK_INT(s.tx_dropped, 104);

    /* The last 10 are still in b's receive ring: a's pool stays. */
    reset_msgs();
    fs_port_close(a);
    CHECK(strstr(all_msgs, "106 packets, 0 of them zero copy; 104 copies "
                 "found no mbuf") != NULL);
    CHECK(strstr(all_msgs, "10 mbufs of this port are still in use")
          != NULL);
    fs_port_close(b);
}

/* Out of mbufs on receive: a net_pcap port with a pool of 2 + 2 + 64 = 68
 * mbufs reads a capture of 109 frames and forwards them, by reference,
 * into a ring nobody reads.  Once the pool is empty, the device drops
 * what it reads (rx_nombuf), counted in rx_dropped; every frame is either
 * received or counted dropped. */
static void
test_rx_nombuf(void)
{
    const char *shared = getenv("FLOWSTEER_SHARED");
    char path[PATH_MAX], devargs[PATH_MAX + 64];
    struct fs_pkt_ref pkts[FS_PORT_BURST];
    struct fs_port *pc = NULL, *sink_peer = NULL, *sink;
    struct fs_port_options o;
    struct fs_port_stats s;

    snprintf(path, sizeof path, "%s/data/ndpi-4.2/pcap/443-curl.pcap",
             shared ? shared : "../shared");
    if (access(path, R_OK)) {
        printf("(no %s: not testing receive without mbufs)\n", path);
        return;
    }
    sink = open_ring_pair("sinkA", "sinkB", 4096, 0, &sink_peer);
    snprintf(devargs, sizeof devargs, "net_pcap0,rx_pcap=%s,tx_pcap=/dev/null",
             path);
    o = dpdk_options("pcap", devargs);
    o.ring_frames = 2;
    CHECK_INT(open_port(&o, &pc), 0);
    if (!pc || !sink || !sink_peer) {
        return;
    }
    for (int i = 0; i < 200; i++) {
        unsigned int n = fs_port_rx_burst(pc, pkts, FS_PORT_BURST);
        CHECK_INT(fs_port_tx_burst(sink, pkts, n), n);
    }
    fs_port_rx_release(pc, UINT32_MAX);
    fs_port_get_stats(pc, &s);
    CHECK_INT(s.rx_packets, 68);
    CHECK_INT(s.rx_packets + s.rx_dropped, 109);

    CHECK_INT(drain_count(sink_peer, FS_PORT_BURST), 68);
    reset_msgs();
    fs_port_close(pc);
    CHECK(strstr(all_msgs, "still in use") == NULL);
    fs_port_close(sink);
    fs_port_close(sink_peer);
}

/* A full device: packets it does not take are not consumed (tx_busy),
 * and their mbufs go back to the pool. */
static void
test_device_full(void)
{
    struct fs_port *b = NULL, *a = open_ring_pair("fullA", "fullB", 64, 0,
                                                  &b);
    struct fs_pkt_ref pkts[100];
    struct fs_port_stats s;

    if (!a || !b) {
        return;
    }
    fill_60(pkts, 100);
    /* A ring of 64 holds 63. */
    CHECK_INT(fs_port_tx_burst(a, pkts, 100), 63);
    CHECK_INT(fs_port_tx_burst(a, pkts, 10), 0);
    fs_port_get_stats(a, &s);
    CHECK_INT(s.tx_packets, 63);
    CHECK_INT(s.tx_busy, 37 + 10);
    CHECK_INT(s.tx_dropped, 0);

    /* A drop behind the first packet the device refused is given back
     * too: not counted, since the caller may offer it again. */
    pkts[1].len = 5000;
    CHECK_INT(fs_port_tx_burst(a, pkts, 3), 0);
    fs_port_get_stats(a, &s);
    CHECK_INT(s.tx_dropped, 0);
    pkts[1].len = 60;

    CHECK_INT(drain_count(b, FS_PORT_BURST), 63);
    fs_port_close(a);
    fs_port_close(b);
}

/* Waits up to 2 s for fs_port_check('port') to return 'want'. */
static int
wait_check(struct fs_port *port, int want)
{
    int error = fs_port_check(port);

    for (int i = 0; i < 200 && error != want; i++) {
        usleep(10000);
        error = fs_port_check(port);
    }
    return error;
}

/* The way flowsteerd is to reach Open vSwitch: a virtio_user port on a
 * vhost-user socket.  The server end is net_vhost here, in the same
 * process (OVS's dpdkvhostuser ports are the same library).  Frames go
 * both ways intact (the second way by reference, as forwarded); the
 * server's link goes down when the client goes. */
static void
test_virtio_user(void)
{
    char sock[64], vhost[128], virtio[128];
    struct fs_port_options o;
    struct fs_port *vh = NULL, *vu = NULL;
    static uint8_t bufs[20][1600];
    struct fs_pkt_ref pkts[FS_PORT_BURST];

    snprintf(sock, sizeof sock, "/tmp/fsdpdk-%ld.sock", (long) getpid());
    snprintf(vhost, sizeof vhost, "net_vhost0,iface=%s,queues=1", sock);
    snprintf(virtio, sizeof virtio, "net_virtio_user0,path=%s,queues=1",
             sock);
    o = dpdk_options("vhost", vhost);
    CHECK_INT(open_port(&o, &vh), 0);
    o = dpdk_options("virtio", virtio);
    CHECK_INT(open_port(&o, &vu), 0);
    if (!vh || !vu) {
        fs_port_close(vh);
        unlink(sock);
        return;
    }
    CHECK_INT(wait_check(vh, 0), 0);
    CHECK_INT(wait_check(vu, 0), 0);

    for (uint32_t i = 0; i < 20; i++) {
        make_frame(bufs[i], len_varied(i), i);
        pkts[i] = caller_pkt(bufs[i], len_varied(i));
    }
    CHECK_INT(fs_port_tx_burst(vu, pkts, 20), 20);
    CHECK_INT(drain_check(vh, 0, len_varied), 20);

    /* Back the other way, forwarding what vhost receives. */
    CHECK_INT(fs_port_tx_burst(vu, pkts, 20), 20);
    unsigned int n = fs_port_rx_burst(vh, pkts, FS_PORT_BURST);
    CHECK_INT(n, 20);
    CHECK_INT(fs_port_tx_burst(vh, pkts, n), n);
    fs_port_rx_release(vh, n);
    CHECK_INT(drain_check(vu, 0, len_varied), 20);

    fs_port_close(vu);
    CHECK_INT(wait_check(vh, ENETDOWN), ENETDOWN);
    reset_msgs();
    fs_port_close(vh);
    CHECK(strstr(all_msgs, "20 packets, 20 of them zero copy") != NULL);
    unlink(sock);
}

int
main(void)
{
    char run_dir[PATH_MAX];

    snprintf(eal_args, sizeof eal_args, "--no-huge --no-shconf --no-pci "
             "--no-telemetry --file-prefix=fsdpdk-%ld", (long) getpid());
    setvbuf(stdout, NULL, _IOLBF, 0);

    RUN_TEST(test_bad_options_before_eal);
    RUN_TEST(test_bad_eal_args);
    RUN_TEST(test_eal_and_loopback);
    RUN_TEST(test_bad_options_after_eal);
    RUN_TEST(test_pair_in_order);
    RUN_TEST(test_zero_copy);
    RUN_TEST(test_nombuf);
    RUN_TEST(test_rx_nombuf);
    RUN_TEST(test_device_full);
    RUN_TEST(test_virtio_user);

    fs_port_close(loop_port);
    snprintf(run_dir, sizeof run_dir, "%s", rte_eal_get_runtime_dir());
    rte_eal_cleanup();
    if (run_dir[0]) {
        rmdir(run_dir);
        rmdir("/var/run/dpdk");     /* If nobody else uses it. */
        CHECK(access(run_dir, F_OK) != 0);
    }
    return test_exit_status();
}
