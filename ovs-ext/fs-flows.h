/* flowsteer/flows: the inspector's live flows, and what OVS did for them.
 *
 * One flow per line: its endpoints, the VM port it came from, what
 * inspection found, the verdict and the rule that chose it, and where its
 * packets went: through the inspector, or matched by its verdict rules in
 * OVS (as of flowrules' last counter poll).  As text, or as one JSON object
 * per line. */
#ifndef FS_FLOWS_H
#define FS_FLOWS_H 1

#include <stdbool.h>

struct ds;
struct flowrules;
struct fs_config;
struct fs_inspector;

void fs_flows_format(struct fs_inspector *, const struct flowrules *,
                     const struct fs_config *, bool json, struct ds *);

#endif /* FS_FLOWS_H */
