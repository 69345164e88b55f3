/*
 * Live migration between hosts: a VM's decided flows, with their verdicts
 * and history, move from the flowsteerd of the host it leaves (the
 * source) to the flowsteerd of the host it goes to (the destination), so
 * that its connections keep their verdicts and are not inspected again.
 *
 * A VM is its Interface's external_ids:iface-id, the same on both hosts.
 * The two flowsteerd talk over mutual TLS with Open vSwitch's PKI: the
 * SSL table (ovs-vsctl set-ssl KEY CERT CA) gives the key, certificate
 * and CA; a peer whose certificate that CA did not sign never gets
 * further than the handshake, and is counted.  A destination listens on
 * external_ids:flowsteer-migration-remote (pssl:PORT[:IP]).  The
 * messages are in fs-mig-msg.h.
 *
 * Starting one:
 *   - push: "ovs-appctl flowsteer/migrate IFACE-ID ssl:HOST:PORT" on the
 *     source;
 *   - pull: external_ids:flowsteer-migrate-from=ssl:HOST:PORT on the
 *     destination's Interface (one that carries the iface-id): its
 *     flowsteerd asks the source for the VM's flows.
 * On a host that follows a Flowsteer database (fs-fleet.h), the peer may be
 * "chassis:NAME" instead: its endpoint is the migration_remote of its
 * Chassis row, and the host that started the migration records it in a
 * Migration row (its state, times, flows, error).
 *
 * Two phases, like QEMU's pre-copy:
 *   1. Copy.  The source sends the records of the flows the VM started
 *      (FS_EXPORT_FROM_PORT), then, every FS_MIGRATE_DELTA_MS, those that
 *      changed since (and the ids of those that ended).  The destination
 *      imports each batch into its own judge (the VM's port there in
 *      place of the source's; a batch with a record for another port is
 *      refused whole), installs their rules on the VM's destination port
 *      at once, before the VM runs there, and acknowledges.  A flow is
 *      judged by the destination's policy: records judged under another
 *      policy (their digest differs) are judged again, and counted.
 *   2. Switch-over, when the VM's port goes from the source's switch, or
 *      "ovs-appctl flowsteer/migrate-switch IFACE-ID" on either side: the
 *      source sends the last changes, marked final; once the destination
 *      has taken them, the source lets go of the VM's flows (their rules
 *      go) and the destination owns them.
 *
 * A migration that fails (the peer goes, times out, sends a bad message)
 * or is cancelled ("flowsteer/migrate-cancel IFACE-ID") before the
 * switch-over leaves the source with everything and the destination with
 * nothing of it: it forgets the flows it imported.
 *
 * "ovs-appctl flowsteer/migrations" lists migrations in progress and the
 * last FS_MIGRATE_KEEP ended, with counts, bytes, times and errors.
 */
#ifndef FS_MIGRATE_H
#define FS_MIGRATE_H 1

#include "flowsteer/inspector.h"

struct fs_config;
struct fs_verdicts;
struct fs_migrate;
struct ds;

#define FS_MIGRATE_DELTA_MS 100     /* Between deltas while copying. */
#define FS_MIGRATE_TIMEOUT_MS 10000 /* A peer silent for this long, while
                                     * an answer is due, has failed. */
#define FS_MIGRATE_HOLD_MS 3000    /* The destination holds the packets
                                     * of the VM's port, unjudged, until
                                     * the last records are in, or this
                                     * long after the first of them. */
#define FS_MIGRATE_KEEP 64          /* Ended migrations listed. */
#define FS_MIGRATE_MAX 64           /* Migrations in progress, at most. */

/* Creates the module, which moves the flows of 'insp' (flowsteerd's
 * judge) and their rules through 'v', and registers its ovs-appctl
 * commands. */
struct fs_appliance;
struct fs_migrate *fs_migrate_create(struct fs_inspector *insp,
                                     struct fs_verdicts *v,
                                     struct fs_appliance *app);
void fs_migrate_destroy(struct fs_migrate *);

/* Keeps the ports of the migrations coming in in file 'path' (NULL:
 * nowhere), so that a restart after a crash forgets what they had
 * imported.  Reads what a previous run left there first: the flows of the
 * ports it names are forgotten once the flow state is restored (see
 * fs_verdicts_ready()), before any migration is served. */
void fs_migrate_set_incoming_file(struct fs_migrate *, const char *path);

/* Finds peers named "chassis:NAME", and records migrations, in 'fleet'. */
struct fs_fleet;
void fs_migrate_set_fleet(struct fs_migrate *, struct fs_fleet *);

/* Takes the listener, TLS files and ports of 'cfg': a source migration
 * whose VM port has gone switches over; a port with flowsteer-migrate-from
 * pulls. */
void fs_migrate_set_config(struct fs_migrate *, const struct fs_config *);

/* fs-verdict's flow end hook: a flow of a VM that is migrating ended. */
void fs_migrate_flow_ended(void *m, const struct fs_flow_info *);

void fs_migrate_run(struct fs_migrate *);
void fs_migrate_wait(struct fs_migrate *);

/* One line for flowsteer/show. */
void fs_migrate_format_summary(const struct fs_migrate *, struct ds *);

#endif /* FS_MIGRATE_H */
