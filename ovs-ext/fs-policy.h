/*
 * The policy file: flowsteerd keeps the inspector's policy in step with
 * the file the flowsteer-policy key names, reading it again when it
 * changes (checked every second).
 *
 * The file is checked before it is read, as a file that decides what
 * passes should be: opened without following a symbolic link and without
 * blocking (a FIFO would hang the daemon), it must be a regular file of at
 * most 64 MB, owned by root or by flowsteerd's user, and writable by
 * nobody else; the flowsteer-policy-permissive=true key lifts the last
 * two.  A file that fails a check, cannot be read or does not parse is
 * reported (by position and reason: no text of a file that is not a
 * policy is ever copied into a message) and the policy in use stays.
 * With none loaded yet, flows follow the fail mode: a stand-in policy
 * drops (fail=closed) or allows (fail=open) new flows, and undoes no
 * verdict of a flow restored at start.
 */
#ifndef FS_POLICY_H
#define FS_POLICY_H 1

#include <stdbool.h>

#include "fs-config.h"

struct ds;
struct fs_inspector;
struct fs_policy;
struct fs_appliance;
struct fs_verdicts;

/* Creates the module for inspector 'insp', whose changed verdicts go to
 * 'verdicts' in one bundle; each policy goes to the appliance 'app' as
 * well.  The caller keeps all three. */
struct fs_policy *fs_policy_create(struct fs_inspector *insp,
                                   struct fs_verdicts *verdicts,
                                   struct fs_appliance *app);
void fs_policy_destroy(struct fs_policy *);

/* Loads 'path' (NULL: no policy, every flow is allowed) if it changed, or
 * if 'force'; with 'fail' for the stand-in, 'permissive' for the checks on
 * the file's owner and mode. */
void fs_policy_run(struct fs_policy *, const char *path, enum fs_fail fail,
                   bool permissive, bool force);
/* Loads policy 'text' (the same syntax as a file), named 'name', if it is
 * not the one in use: from the Flowsteer database (fs-fleet.h) instead of
 * a file.  'text' NULL: none is to be had ('missing' says why); the one in
 * use stays, and with none yet, new flows follow 'fail'.  A text that does
 * not parse is reported and the one in use stays. */
void fs_policy_set_text(struct fs_policy *, const char *name,
                        const char *text, enum fs_fail fail,
                        const char *missing);
void fs_policy_wait(const struct fs_policy *);

/* Returns true if a policy file is in use (not the stand-in). */
bool fs_policy_loaded(const struct fs_policy *);

/* Returns the last problem with the configured policy, or "" if none. */
const char *fs_policy_error(const struct fs_policy *);

#endif /* FS_POLICY_H */
