/*
 * fs-port-provider: the interface a packet I/O backend implements, in the
 * manner of Open vSwitch's lib/netdev-provider.h.
 *
 * fs-port.c checks the options, finds the class by name and calls it;
 * the class does the I/O.  A backend's port structure embeds struct
 * fs_port (usually first) and converts with CONTAINER_OF-style casts.
 *
 * Error convention as in fs-port.h: 0 or a positive errno value, counts
 * for bursts.  The generic layer guarantees to each function below that
 * 'port' is non-NULL and was opened by this class, and that burst
 * arguments have 'n' <= the size the caller passed (it does not clamp to
 * FS_PORT_BURST: a class handles any 'n').
 */
#ifndef FS_PORT_PROVIDER_H
#define FS_PORT_PROVIDER_H 1

#include "fs-port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The generic part of every port.  Set by fs_port_init(); a class does
 * not change it afterward. */
struct fs_port {
    const struct fs_port_class *class;
    char ifname[16];            /* IFNAMSIZ, with the terminating NUL. */
    uint64_t tx_busy;           /* Kept by fs-port.c. */
};

struct fs_port_class {
    /* Backend name, as in fs_port_options.backend. */
    const char *type;

    /* Opens a port.  'options' is complete (sz == sizeof, ifname non-NULL
     * and shorter than IFNAMSIZ; zeros mean "default", which the class
     * applies).  On success stores a port initialized with fs_port_init()
     * in '*portp' and returns 0; otherwise returns a positive errno value
     * and has logged why with fs_port_log(). */
    int (*open)(const struct fs_port_options *options,
                struct fs_port **portp);

    /* Releases everything 'port' holds, including 'port' itself. */
    void (*close)(struct fs_port *port);

    /* As the fs_port_*() functions of the same names in fs-port.h.
     * 'fd' is NULL for a poll-mode class (fs_port_is_pmd()).  'rx_burst'
     * sets each packet's 'port' and 'handle' (fs-port.h); 'get_stats'
     * leaves 'tx_busy' alone. */
    int (*fd)(const struct fs_port *port);
    unsigned int (*rx_burst)(struct fs_port *port, struct fs_pkt_ref pkts[],
                             unsigned int n);
    void (*rx_release)(struct fs_port *port, unsigned int n);
    unsigned int (*tx_burst)(struct fs_port *port,
                             const struct fs_pkt_ref pkts[], unsigned int n);
    uint32_t (*max_tx_len)(const struct fs_port *port);
    void (*get_stats)(struct fs_port *port, struct fs_port_stats *stats);
    int (*check)(struct fs_port *port);
};

/* Known classes. */
extern const struct fs_port_class fs_port_afpacket_class;
extern const struct fs_port_class fs_port_afxdp_class; /* HAVE_XDP. */
extern const struct fs_port_class fs_port_dpdk_class; /* If HAVE_DPDK. */

/* Helpers for classes. */
void fs_port_init(struct fs_port *port, const struct fs_port_class *class,
                  const char *ifname);
void fs_port_log(const struct fs_port_options *options,
                 enum fs_port_log_level level, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Finds options->ifname's index and MTU with ioctl()s on 'fd' (any socket)
 * and checks that it is Ethernet (or loopback).  Returns 0, ENODEV or
 * another positive errno value, and logs why. */
int fs_port_query_interface(int fd, const struct fs_port_options *options,
                            int *ifindexp, uint32_t *mtup);

/* Returns true if 'pkt' can be sent on an interface of MTU 'mtu' by a
 * port whose longest frame is 'max_tx_len', false if it must be dropped:
 * its bytes are incomplete (received truncated) or it is too long.  A
 * frame longer than MTU + Ethernet header is only allowed with a VLAN
 * tag, as the kernel checks. */
bool fs_port_tx_ok(const struct fs_pkt_ref *pkt, uint32_t mtu,
                   uint32_t max_tx_len);

/* For check(): returns the error pending on socket 'fd' (clearing it),
 * ENODEV if port->ifname is gone, ESTALE if it has another index than
 * 'ifindex', or 0.  The index is asked with SIOCGIFINDEX on 'ioctl_fd',
 * a socket the port opened (a sandboxed process may open none; an AF_XDP
 * socket does not answer it). */
int fs_port_check_socket(const struct fs_port *port, int fd, int ioctl_fd,
                         int ifindex);

#ifdef __cplusplus
}
#endif

#endif /* fs-port-provider.h */
