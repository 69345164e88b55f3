/*
 * fs-port: the generic layer of the port interface.  It checks the
 * options, picks the backend class by name and dispatches to it; the
 * burst functions are one indirect call each.
 */
#include <config.h>

#include "fs-port.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "fs-port-provider.h"

static const struct fs_port_class *const classes[] = {
    &fs_port_afpacket_class,
#if defined(HAVE_XDP) && defined(HAVE_BPF)
    &fs_port_afxdp_class,
#endif
#ifdef HAVE_DPDK
    &fs_port_dpdk_class,
#endif
};
#define N_CLASSES (sizeof classes / sizeof classes[0])

const char *
fs_port_backend_name(size_t i)
{
    return i < N_CLASSES ? classes[i]->type : NULL;
}

bool
fs_port_backend_known(const char *name)
{
    for (size_t i = 0; i < N_CLASSES; i++) {
        if (!strcmp(classes[i]->type, name)) {
            return true;
        }
    }
    return false;
}

void
fs_port_log(const struct fs_port_options *options,
            enum fs_port_log_level level, const char *format, ...)
{
    if (options->log) {
        char msg[256];
        va_list args;

        va_start(args, format);
        vsnprintf(msg, sizeof msg, format, args);
        va_end(args);
        options->log(options->log_aux, level, msg);
    }
}

void
fs_port_init(struct fs_port *port, const struct fs_port_class *class,
             const char *ifname)
{
    port->class = class;
    port->tx_busy = 0;
    snprintf(port->ifname, sizeof port->ifname, "%s", ifname);
}

/* Copies the caller's 'in' into '*out', complete with zeros for members
 * the caller's header did not have.  Returns 0 or EINVAL. */
static int
copy_options(const struct fs_port_options *in, struct fs_port_options *out)
{
    static const size_t min_sz = offsetof(struct fs_port_options, ifname)
                                 + sizeof in->ifname;

    memset(out, 0, sizeof *out);
    if (!in || in->sz < min_sz) {
        return EINVAL;
    }
    if (in->sz > sizeof *out) {
        /* A newer caller: fine as long as it uses nothing we lack. */
        const unsigned char *p = (const unsigned char *) in;
        for (size_t i = sizeof *out; i < in->sz; i++) {
            if (p[i]) {
                return EINVAL;
            }
        }
    }
    memcpy(out, in, in->sz < sizeof *out ? in->sz : sizeof *out);
    out->sz = sizeof *out;
    return 0;
}

int
fs_port_open(const struct fs_port_options *options_, struct fs_port **portp)
{
    struct fs_port_options options;
    const char *backend;
    int error;

    *portp = NULL;
    error = copy_options(options_, &options);
    if (error) {
        /* No usable options, so no log callback either, unless the
         * caller's struct gets that far. */
        if (options_ && options_->sz >= sizeof options) {
            fs_port_log(options_, FS_PORT_LOG_ERR,
                        "fs_port_options has %zu bytes, of which this "
                        "library knows %zu, and the rest are not zero",
                        options_->sz, sizeof options);
        }
        return error;
    }

    backend = options.backend ? options.backend : "afpacket";
    const struct fs_port_class *class = NULL;
    for (size_t i = 0; i < N_CLASSES; i++) {
        if (!strcmp(classes[i]->type, backend)) {
            class = classes[i];
            break;
        }
    }
    if (!class) {
        char known[128] = "";
        size_t len = 0;

        for (size_t i = 0; i < N_CLASSES && len < sizeof known; i++) {
            len += snprintf(known + len, sizeof known - len, "%s%s",
                            i ? ", " : "", classes[i]->type);
        }
        fs_port_log(&options, FS_PORT_LOG_ERR,
                    "unknown port backend \"%s\" (known: %s)",
                    backend, known);
        return EAFNOSUPPORT;
    }

    if (!options.ifname || !options.ifname[0]) {
        fs_port_log(&options, FS_PORT_LOG_ERR, "no interface name given");
        return EINVAL;
    }
    if (strlen(options.ifname) >= sizeof ((struct fs_port *) 0)->ifname) {
        fs_port_log(&options, FS_PORT_LOG_ERR,
                    "interface name \"%s\" is too long (at most 15 bytes)",
                    options.ifname);
        return ENODEV;
    }

    error = class->open(&options, portp);
    if (error) {
        *portp = NULL;
    }
    return error;
}

void
fs_port_close(struct fs_port *port)
{
    if (port) {
        port->class->close(port);
    }
}

int
fs_port_check(struct fs_port *port)
{
    return port->class->check ? port->class->check(port) : 0;
}

int
fs_port_fd(const struct fs_port *port)
{
    return port->class->fd ? port->class->fd(port) : -1;
}

bool
fs_port_is_pmd(const struct fs_port *port)
{
    return !port->class->fd;
}

unsigned int
fs_port_rx_burst(struct fs_port *port, struct fs_pkt_ref pkts[],
                 unsigned int n)
{
    return port->class->rx_burst(port, pkts, n);
}

void
fs_port_rx_release(struct fs_port *port, unsigned int n)
{
    port->class->rx_release(port, n);
}

unsigned int
fs_port_tx_burst(struct fs_port *port, const struct fs_pkt_ref pkts[],
                 unsigned int n)
{
    unsigned int sent = n ? port->class->tx_burst(port, pkts, n) : 0;

    port->tx_busy += n - sent;
    return sent;
}

uint32_t
fs_port_max_tx_len(const struct fs_port *port)
{
    return port->class->max_tx_len(port);
}

void
fs_port_get_stats(struct fs_port *port, struct fs_port_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    port->class->get_stats(port, stats);
    stats->tx_busy = port->tx_busy;
}

const char *
fs_port_backend(const struct fs_port *port)
{
    return port->class->type;
}

int
fs_port_ifup(const char *ifname)
{
    struct ifreq ifr;
    int fd, error = 0;

    if (strlen(ifname) >= sizeof ifr.ifr_name) {
        return ENODEV;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
        error = errno;
    } else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
            error = errno;
        }
    }
    close(fd);
    return error;
}

const char *
fs_port_ifname(const struct fs_port *port)
{
    return port->ifname;
}

/* Helpers for classes. */

int
fs_port_query_interface(int fd, const struct fs_port_options *o,
                        int *ifindexp, uint32_t *mtup)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, o->ifname, sizeof ifr.ifr_name - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
        int error = errno == ENODEV || errno == ENXIO ? ENODEV : errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: no such network interface "
                    "(in this network namespace): %s", o->ifname,
                    strerror(errno));
        return error;
    }
    *ifindexp = ifr.ifr_ifindex;

    if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
        int error = errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot read its link type: %s",
                    o->ifname, strerror(error));
        return error;
    }
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER
        && ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK) {
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: not an Ethernet interface "
                    "(link type %d)", o->ifname, ifr.ifr_hwaddr.sa_family);
        return EINVAL;
    }

    if (ioctl(fd, SIOCGIFMTU, &ifr)) {
        int error = errno;
        fs_port_log(o, FS_PORT_LOG_ERR, "%s: cannot read its MTU: %s",
                    o->ifname, strerror(error));
        return error;
    }
    *mtup = ifr.ifr_mtu;
    return 0;
}

bool
fs_port_tx_ok(const struct fs_pkt_ref *pkt, uint32_t mtu, uint32_t max_tx_len)
{
    if (pkt->len < ETH_HLEN || pkt->len > max_tx_len
        || (pkt->caplen && pkt->caplen < pkt->len)) {
        return false;
    }
    if (pkt->len > mtu + ETH_HLEN) {
        uint16_t type = pkt->data[12] << 8 | pkt->data[13];
        return type == ETH_P_8021Q || type == ETH_P_8021AD;
    }
    return true;
}

int
fs_port_check_socket(const struct fs_port *port, int fd, int ioctl_fd,
                     int ifindex)
{
    socklen_t len = sizeof(int);
    unsigned int index;
    struct ifreq ifr;
    int error = 0;

    /* SO_ERROR clears the error it reports: a flapped link's ENETDOWN
     * would otherwise keep the socket polling ready (POLLERR) for ever,
     * while the receive ring stays empty. */
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len)) {
        return errno;
    } else if (error) {
        return error;
    }
    /* On the port's own socket, not if_nametoindex()'s new one: a
     * sandboxed appliance may create no socket (fs-sandbox.h). */
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, port->ifname, sizeof port->ifname);
    if (ioctl(ioctl_fd, SIOCGIFINDEX, &ifr)) {
        return errno == ENODEV || errno == ENXIO ? ENODEV : errno;
    }
    index = ifr.ifr_ifindex;
    return (int) index != ifindex ? ESTALE : 0;
}
