/* The policy file.  See fs-policy.h. */
#include <config.h>
#include "fs-policy.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowsteer/inspector.h"
#include "fs-appliance.h"
#include "fs-chan.h"
#include "fs-verdict.h"
#include "hash.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_policy);

#define CHECK_MSEC 1000
#define MAX_POLICY_BYTES (64u << 20)

struct fs_policy {
    struct fs_inspector *insp;
    struct fs_verdicts *verdicts;
    struct fs_appliance *app;   /* Gets each policy 'insp' gets. */
    char *loaded;               /* Path of the policy in use, or NULL. */
    struct timespec mtime;
    ino_t ino;
    int fallback;               /* With no policy loaded and the configured
                                 * one failing: the enum fs_fail whose
                                 * stand-in is in use, else -1. */
    long long int next_check;
    uint32_t text_hash;         /* fs_policy_set_text(): of the text, */
    uint32_t refused_hash;      /* and of the last one refused, */
    bool refused;               /* if any. */
    char error[512];            /* Last problem, "" if none. */
};

struct fs_policy *
fs_policy_create(struct fs_inspector *insp, struct fs_verdicts *verdicts,
                 struct fs_appliance *app)
{
    struct fs_policy *p = xzalloc(sizeof *p);

    p->insp = insp;
    p->verdicts = verdicts;
    p->app = app;
    p->fallback = -1;
    return p;
}

void
fs_policy_destroy(struct fs_policy *p)
{
    if (p) {
        free(p->loaded);
        free(p);
    }
}

bool
fs_policy_loaded(const struct fs_policy *p)
{
    return p->loaded != NULL;
}

const char *
fs_policy_error(const struct fs_policy *p)
{
    return p->error;
}

/* Records 'error' about the configured policy.  The policy in use stays;
 * with none loaded yet, flows follow the fail mode: no verdict can be
 * trusted, so fail=closed drops them and fail=open lets them pass. */
static void
policy_failed(struct fs_policy *p, enum fs_fail fail, const char *error)
{
    char msg[sizeof p->error];

    if (p->loaded) {
        snprintf(msg, sizeof msg, "%s; keeping %s", error, p->loaded);
    } else {
        snprintf(msg, sizeof msg, "%s; no policy loaded: flows are %s "
                 "(fail=%s)", error,
                 fail == FS_FAIL_CLOSED ? "dropped" : "allowed",
                 fs_fail_name(fail));
        if (p->fallback != (int) fail) {
            /* For new flows only: flows restored at start keep the
             * verdicts they had (a stand-in undoes nothing). */
            const char *text = (fail == FS_FAIL_CLOSED
                                ? "priority=0, actions=drop"
                                : "priority=0, actions=allow");

            p->fallback = fail;
            fs_inspector_set_policy_for_new_flows(p->insp, "(no policy)",
                                                  text, NULL, 0);
            fs_appliance_set_policy(p->app, FS_CHAN_POLICY_NEW_FLOWS,
                                    "(no policy)", text);
        }
    }
    if (strcmp(msg, p->error)) {
        VLOG_WARN("policy: %s", msg);
        ovs_strlcpy(p->error, msg, sizeof p->error);
    }
}

/* Checks that 'st', of the policy file 'path', is a file a policy may come
 * from.  Returns true, or false with the reason in 'error'. */
static bool
check_file(const char *path, const struct stat *st, bool permissive,
           char *error, size_t size)
{
    if (!S_ISREG(st->st_mode)) {
        snprintf(error, size, "%s: not a regular file", path);
    } else if (st->st_size > MAX_POLICY_BYTES) {
        snprintf(error, size, "%s: larger than %u bytes", path,
                 MAX_POLICY_BYTES);
    } else if (!permissive && st->st_uid != 0 && st->st_uid != geteuid()) {
        snprintf(error, size, "%s: owned by uid %u, not by root or by "
                 "flowsteerd's user (flowsteer-policy-permissive=true "
                 "allows it)", path, (unsigned int) st->st_uid);
    } else if (!permissive && st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(error, size, "%s: writable by its group or by others "
                 "(mode %04o; flowsteer-policy-permissive=true allows it)",
                 path, (unsigned int) (st->st_mode & 07777));
    } else {
        return true;
    }
    return false;
}

/* Opens and checks the policy file 'path', reads it into a new string in
 * '*text' and its status into '*st'.  Returns 0, or an errno with the
 * reason in 'error'. */
static int
read_file(const char *path, bool permissive, char **text, struct stat *st,
          char *error, size_t size)
{
    size_t n = 0;
    int fd;

    *text = NULL;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;

        snprintf(error, size, "%s: %s", path,
                 err == ELOOP ? "a symbolic link (not followed: name the "
                 "file itself)" : ovs_strerror(err));
        return err;
    }
    if (fstat(fd, st)) {
        snprintf(error, size, "%s: %s", path, ovs_strerror(errno));
        close(fd);
        return EIO;
    }
    if (!check_file(path, st, permissive, error, size)) {
        close(fd);
        return EPERM;
    }
    *text = xmalloc(st->st_size + 1);
    while (n < (size_t) st->st_size) {
        ssize_t r = read(fd, *text + n, st->st_size - n);

        if (r < 0 && errno == EINTR) {
            continue;
        } else if (r <= 0) {
            break;
        }
        n += r;
    }
    close(fd);
    (*text)[n] = '\0';
    if (strlen(*text) != n) {
        snprintf(error, size, "%s: contains a NUL byte", path);
        free(*text);
        *text = NULL;
        return EINVAL;
    }
    return 0;
}

static bool
same_file(const struct fs_policy *p, const struct stat *st)
{
    return (p->mtime.tv_sec == st->st_mtim.tv_sec
            && p->mtime.tv_nsec == st->st_mtim.tv_nsec
            && p->ino == st->st_ino);
}

void
fs_policy_run(struct fs_policy *p, const char *path, enum fs_fail fail,
              bool permissive, bool force)
{
    char error[sizeof p->error];
    unsigned int changed = 0;
    struct stat st;
    char *text;

    if (!force && time_msec() < p->next_check
        && nullable_string_is_equal(path, p->loaded)) {
        return;
    }
    p->next_check = time_msec() + CHECK_MSEC;

    if (!path) {
        if (p->loaded || p->fallback >= 0) {
            fs_inspector_set_policy(p->insp, "(none)", NULL, &changed,
                                    NULL, 0);
            fs_appliance_set_policy(p->app, FS_CHAN_POLICY_SET, "(none)",
                                    NULL);
            fs_verdicts_commit(p->verdicts);
            VLOG_INFO("policy removed: every flow is allowed (%u verdicts "
                      "changed)", changed);
            free(p->loaded);
            p->loaded = NULL;
            p->fallback = -1;
        }
        p->error[0] = '\0';
        return;
    }
    /* A look at the file, without opening it, says whether it changed. */
    if (!force && nullable_string_is_equal(path, p->loaded)
        && !lstat(path, &st) && same_file(p, &st)) {
        return;
    }
    if (read_file(path, permissive, &text, &st, error, sizeof error)) {
        policy_failed(p, fail, error);
        return;
    }
    p->mtime = st.st_mtim;
    p->ino = st.st_ino;
    if (fs_inspector_set_policy(p->insp, path, text, &changed, error,
                                sizeof error)) {
        free(text);
        policy_failed(p, fail, error);
        return;
    }
    fs_appliance_set_policy(p->app, FS_CHAN_POLICY_SET, path, text);
    free(text);
    fs_verdicts_commit(p->verdicts);
    p->error[0] = '\0';
    p->fallback = -1;
    free(p->loaded);
    p->loaded = xstrdup(path);
    VLOG_INFO("policy %s loaded (%u verdicts changed)", path, changed);
}

void
fs_policy_set_text(struct fs_policy *p, const char *name, const char *text,
                   enum fs_fail fail, const char *missing)
{
    char error[sizeof p->error];
    unsigned int changed = 0;
    uint32_t hash;

    if (!text) {
        policy_failed(p, fail, missing ? missing : "no policy");
        return;
    }
    hash = hash_string(text, 0);
    if ((nullable_string_is_equal(name, p->loaded) && hash == p->text_hash)
        || (p->refused && hash == p->refused_hash)) {
        return;
    }
    if (fs_inspector_set_policy(p->insp, name, text, &changed, error,
                                sizeof error)) {
        p->refused = true;
        p->refused_hash = hash;
        policy_failed(p, fail, error);
        return;
    }
    p->refused = false;
    fs_appliance_set_policy(p->app, FS_CHAN_POLICY_SET, name, text);
    fs_verdicts_commit(p->verdicts);
    p->error[0] = '\0';
    p->fallback = -1;
    p->text_hash = hash;
    memset(&p->mtime, 0, sizeof p->mtime);
    p->ino = 0;
    free(p->loaded);
    p->loaded = xstrdup(name);
    VLOG_INFO("policy %s loaded (%u verdicts changed)", name, changed);
}

void
fs_policy_wait(const struct fs_policy *p)
{
    poll_timer_wait_until(p->next_check);
}
