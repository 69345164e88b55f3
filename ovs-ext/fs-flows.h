/* flowsteer/flows: the inspector's live flows, and what OVS did for them.
 *
 * One flow per line: its endpoints, the VM port it came from, what
 * inspection found, the verdict and the rule that chose it, and where its
 * packets went: through the inspector, or matched by its verdict rules in
 * OVS (as of flowrules' last counter poll).  As text, or as one JSON object
 * per line.
 *
 * Replies are pages, in flow id order: at most --limit flows (default
 * FS_FLOWS_PAGE_DEFAULT, at most FS_FLOWS_PAGE_MAX) after --after=ID, and
 * a last line that says how to ask for the next page when there is one.
 * A page is formatted from the flows' ids and its own lines only, so a
 * full flow table never builds tens of megabytes in the data-path loop.
 * At most FS_FLOWS_MAX_WAITING requests wait for fresh counters; more are
 * refused ("busy"), counted. */
#ifndef FS_FLOWS_H
#define FS_FLOWS_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct flowrules;
struct fs_appliance;
struct fs_config;
struct fs_inspector;
struct fs_verdicts;

#define FS_FLOWS_PAGE_DEFAULT 1000
#define FS_FLOWS_PAGE_MAX 10000
#define FS_FLOWS_MAX_WAITING 16

/* Registers the flowsteer/flows command, which lists 'insp''s flows with
 * the counters of their rules in 'verdicts', and the flows only the
 * appliance 'app' has (still classifying), with its counters for all of
 * them. */
struct fs_flows *fs_flows_create(struct fs_inspector *insp,
                                 struct fs_verdicts *verdicts,
                                 struct fs_appliance *app);

/* The configuration that names the ports (NULL: none yet).  It must stay
 * valid until the next call. */
void fs_flows_set_config(struct fs_flows *, const struct fs_config *cfg);

void fs_flows_run(struct fs_flows *);
void fs_flows_wait(const struct fs_flows *);

/* Answers the requests still waiting, then frees. */
void fs_flows_destroy(struct fs_flows *);

/* Appends a line on the command's bounds and counters to 'ds'. */
void fs_flows_format_stats(const struct fs_flows *, struct ds *);

/* Appends to 'ds' the page of flows after 'after' (at most 'limit'), and
 * the line on the next page.  Returns true if there is a next page.
 * 'app_msgs' is the appliance's answer to fs_appliance_query_flows() for
 * the same 'after' and 'limit', or NULL. */
bool fs_flows_format(struct fs_inspector *, const struct ds *app_msgs,
                     const struct flowrules *, const struct fs_config *,
                     bool json, uint64_t after, unsigned int limit,
                     struct ds *);

#endif /* FS_FLOWS_H */
