/*
 * The steering pipeline: the OpenFlow rules that send the packets of
 * undecided flows of inspected VM ports through the inspector and back.
 *
 * The tag: an 802.1Q header whose VID holds the ingress port's low 12
 * bits and whose PCP holds the next 3, so ports 1 to 32765 fit, and LOCAL
 * (0xfffe) comes out as VID 0xffe, PCP 7 (FS_OF_TAG_LOCAL).  Ports
 * above 32765 cannot be inspected (fs-config refuses them).
 *
 * Integration bridge, table 0 (cookie namespace 0xf5e2):
 *
 *   30110  in_port=PATCH, tag LOCAL   coming back from LOCAL: in_port=LOCAL
 *   30100  in_port=PATCH, tagged      the inspector's packets coming back:
 *                                     the tag holds the original in_port;
 *                                     restore it, pop the tag, NORMAL (so
 *                                     MAC learning sees the real port)
 *   30000  in_port=PATCH              anything else from the patch: drop
 *   29010  arp,in_port=VM             NORMAL: ARP is not inspected,
 *          rarp,in_port=VM            nor RARP (QEMU's announce of a VM
 *                                     that moved here)
 *   29000  in_port=VM                 everything else: push a tag holding
 *                                     VM's port, to the patch port (tap
 *                                     mode: a copy, then NORMAL)
 *   28910  arp,dl_dst=VM_MAC          NORMAL
 *   28900  dl_dst=VM_MAC              the reverse direction, for VMs whose
 *                                     Interface has external_ids:
 *                                     attached-mac: tag with the in_port
 *
 * Not just 'ip' and 'ipv6': OVS parses one VLAN tag (vlan-limit), so IP
 * behind more tags matches neither, and other ethertypes (MPLS, PPPoE)
 * carry IP too.  The inspector judges whatever is not IP under its non_ip
 * exception class, and IP it cannot parse under the matching class.
 *
 * Per-flow verdict rules (flowrules, priority 40000) match before these,
 * so a decided flow never reaches the patch port again.
 *
 * Failure (inline mode): the steering actions go through fast-failover
 * groups (ids 0xf5e2XXXX) whose first bucket watches flowsteerd's
 * liveness port, a tap device that flowsteerd holds open and that
 * vanishes when it dies.  While it is gone, OVS takes the second bucket
 * by itself: NORMAL (fail=open: bypass the inspector) or nothing
 * (fail=closed: drop).  Verdict rules keep enforcing either way.
 *
 * Security bridge, table 0:
 *
 *   100  in_port=PATCH, tagged  -> the inspector's port
 *   100  in_port=INSPECTOR      -> the patch port
 *   (nothing else: fail_mode=secure drops it)
 *
 * While the inspector cannot be reached (its bridge or ports are missing)
 * and fail=closed, 'closed' steering keeps only the ARP rules and drops
 * the rest at 29000 and 28900: a port deleted or not made yet lets nothing
 * through uninspected.
 *
 * The rules of each bridge are replaced as a whole, in one atomic bundle,
 * when they change or the connection comes back; rules with other
 * cookies are never touched.
 */
#ifndef FS_STEER_H
#define FS_STEER_H 1

#include <stdbool.h>
#include <stdint.h>

#include "fs-config.h"
#include "fs-openflow.h"

struct fs_steer;
struct ds;


/* Returns the OpenFlow port held by tag 'tci' (see above). */
static inline uint32_t
fs_steer_tag_port(uint16_t tci)
{
    uint32_t port = (tci & 0xfff) | (uint32_t) (tci >> 13) << 12;

    return port == FS_OF_TAG_LOCAL ? 0xfffe : port;
}

/* One inspected VM port. */
struct fs_steer_port {
    int64_t ofport;
    char mac[18];               /* attached-mac, or "" if unknown. */
};

struct fs_steer_spec {
    enum fs_mode mode;
    enum fs_fail fail;
    int64_t live;               /* Ofport of flowsteerd's liveness port on
                                 * the integration bridge, or <= 0. */
    int64_t patch_int;          /* Ofport of the patch on br-int. */
    int64_t patch_sec;          /* Ofport of the patch on br-sec. */
    int64_t insp;               /* Ofport of the inspector's port. */
    bool closed;                /* No inspector to reach (then live,
                                 * patch_int, patch_sec and insp are
                                 * unused): drop instead. */
    struct fs_steer_port *ports;
    size_t n_ports;
};

struct fs_steer *fs_steer_create(void);
void fs_steer_destroy(struct fs_steer *);

/* Sets the bridges to program ('int_bridge' and 'sec_bridge', names
 * reached through their mgmt sockets in the OVS run directory) and the
 * rules to keep there.  NULL 'spec' removes our rules. */
void fs_steer_set(struct fs_steer *, const char *int_bridge,
                  const char *sec_bridge, const struct fs_steer_spec *spec);

/* Sets the rules for configuration 'cfg' and topology 'topo': until the
 * topology is complete there is no inspector to reach, so with
 * fail=closed (inline) the inspected ports' traffic is dropped, else it
 * is not steered. */
struct fs_topo;
void fs_steer_update(struct fs_steer *, const struct fs_config *cfg,
                     const struct fs_topo *topo);

/* Returns true if the rules last set are installed in both bridges on
 * their current OpenFlow connections, and stores in '*seqno' a number that
 * changes whenever the integration bridge's connection is made again (a
 * restarted ovs-vswitchd, for one). */
bool fs_steer_installed(const struct fs_steer *, unsigned int *seqno);

void fs_steer_run(struct fs_steer *);
void fs_steer_wait(struct fs_steer *);

void fs_steer_format(const struct fs_steer *, struct ds *);

#endif /* FS_STEER_H */
