/*
 * The OpenFlow numbers flowsteer uses in the switch: cookies, tables,
 * priorities, groups, meters, registers and the steering tag.  All of
 * them are here, so that the pipeline reads from one place and no two
 * parts (flowrules' verdict rules, fs-steer's steering, a controller's
 * rules) collide.
 *
 * Integration bridge, table 0, highest priority first:
 *
 *   40000  verdict rules (flowrules), one per flow and direction
 *   30110  from the patch port, tagged LOCAL
 *   30100  from the patch port, tagged: back from the inspector
 *   30000  from the patch port, anything else: drop
 *   29010  an inspected VM's ARP: NORMAL
 *   29000  an inspected VM's other frames: to the inspector
 *   28910  ARP to an inspected VM's MAC: NORMAL
 *   28900  other frames to it: to the inspector
 *
 * Security bridge, table 0: 100, between the patch port and the
 * inspector's port.  A verdict 'label' continues in FS_OF_LABEL_TABLE.
 * See fs-steer.h for what each steering rule does.
 */
#ifndef FS_OPENFLOW_H
#define FS_OPENFLOW_H 1

#include <stdint.h>

/* Cookies: the top 16 bits say whose rule it is. */
#define FS_OF_COOKIE_NS_MASK UINT64_C(0xffff000000000000)
#define FS_OF_VERDICT_COOKIE_NS 0xf5e1  /* Verdict rules: this, then the
                                         * flow id in the low 48 bits. */
#define FS_OF_STEER_COOKIE UINT64_C(0xf5e2000000000000)

/* Tables. */
#define FS_OF_TABLE 0                   /* Steering and verdict rules. */
#define FS_OF_LABEL_TABLE 50            /* Where 'label' verdicts go on. */
#define FS_OF_LABEL_REG 5               /* The register a label is in. */

/* Priorities (see above). */
#define FS_OF_PRIO_VERDICT 40000
#define FS_OF_PRIO_RETURN_LOCAL 30110
#define FS_OF_PRIO_RETURN 30100
#define FS_OF_PRIO_PATCH_DROP 30000
#define FS_OF_PRIO_PORT_ARP 29010
#define FS_OF_PRIO_PORT 29000
#define FS_OF_PRIO_MAC_ARP 28910
#define FS_OF_PRIO_MAC 28900
#define FS_OF_PRIO_SEC 100

/* Fast-failover groups of the steering: one per inspected port (the base
 * ORed with its OpenFlow port), and one for traffic to inspected MACs. */
#define FS_OF_GROUP_BASE 0xf5e20000u
#define FS_OF_GROUP_REVERSE (FS_OF_GROUP_BASE | 0xffff)

/* The meter that bounds 'log' packet-ins (verdict rules' own meters, one
 * per rate, are numbered from 1). */
#define FS_OF_METER_LOG 0xf5e1

/* The steering tag: an 802.1Q header whose VID holds the ingress port's
 * low 12 bits and whose PCP the next 3.  The highest port it carries, and
 * the 15-bit value that stands for LOCAL. */
#define FS_OF_TAG_MAX_PORT 32765
#define FS_OF_TAG_LOCAL 0x7ffe

#endif /* FS_OPENFLOW_H */
