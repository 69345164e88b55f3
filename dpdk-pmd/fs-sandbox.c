/*
 * fs-sandbox: drops the appliance's privileges (libcap-ng) and confines
 * it with a seccomp filter (libseccomp).  See fs-sandbox.h for the threat
 * model and the contract; the allowlist is below, in one place.
 */
#include <config.h>

#define _GNU_SOURCE 1           /* getresuid(), getresgid(). */
#include "fs-sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <malloc.h>
#include <net/if.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#if FS_SANDBOX_SANITIZERS
#include <sanitizer/lsan_interface.h>
#endif

/* The user fs_sandbox_options.user = NULL means, and its fallback. */
#define DEFAULT_USER "flowsteer"
#define FALLBACK_USER "nobody"

enum stage { STAGE_CREATED, STAGE_DROPPED, STAGE_LOCKED };

struct fs_sandbox {
    enum stage stage;
    uint64_t keep_caps;
    bool keep_dumpable;
    enum fs_sandbox_deny deny;
    fs_port_log_cb *log;
    void *log_aux;

    char user[64];
    uid_t uid;
    gid_t gid;
    int status_fd;              /* /proc/self/status, opened by create. */

    int *extra_syscalls;        /* System call numbers. */
    size_t n_extra_syscalls;
    unsigned long *extra_ioctls;
    size_t n_extra_ioctls;
};

static void sb_log(const struct fs_sandbox *, enum fs_port_log_level,
                   const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void
sb_log(const struct fs_sandbox *sb, enum fs_port_log_level level,
       const char *format, ...)
{
    char msg[256];
    va_list args;

    if (!sb->log) {
        return;
    }
    va_start(args, format);
    vsnprintf(msg, sizeof msg, format, args);
    va_end(args);
    sb->log(sb->log_aux, level, msg);
}

/* The allowlist.
 *
 * Allowed with any arguments: I/O on descriptors the process already
 * holds, waiting, clocks, memory, futexes, its own signal state, exit. */
static const int allowed[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
    SCMP_SYS(pread64), SCMP_SYS(pwrite64),
    SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),
    SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg),
    SCMP_SYS(getsockopt),       /* PACKET_STATISTICS, SO_ERROR. */
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
    SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
    SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(sched_yield),
    SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap),
    SCMP_SYS(futex), SCMP_SYS(getrandom),
    SCMP_SYS(getpid), SCMP_SYS(gettid),
    SCMP_SYS(sysinfo),          /* glibc's qsort() of more than 1 KB asks
                                 * the memory size (found by
                                 * make bench-e2e: the appliance was
                                 * killed with SIGSYS under load). */
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
    SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
    SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* ioctl() requests allowed, on any descriptor.  The afpacket backend
 * asks SIOCGIFINDEX, SIOCGIFHWADDR and SIOCGIFMTU when it opens a port
 * (before the filter); at run time, checking the port needs the
 * interface's index (asked on the port's own socket: see fs-sandbox.h)
 * and a link check its flags.  Both only read. */
static const unsigned long allowed_ioctls[] = { SIOCGIFINDEX, SIOCGIFFLAGS };

/* fcntl() commands allowed: descriptor and status flags (O_NONBLOCK). */
static const unsigned long allowed_fcntls[] = {
    F_GETFD, F_SETFD, F_GETFL, F_SETFL,
};

/* In sanitizer builds, what the runtimes' reports call to find and
 * symbolize the program (GCC's libasan opens /proc/self/maps and the
 * executable and reads /proc/self/exe; others look for and spawn
 * llvm-symbolizer) fails with EPERM instead of killing the process half-way
 * through the report.  See fs-sandbox.h.  newfstatat() with a path is
 * added by add_rules(). */
#if FS_SANDBOX_SANITIZERS
static const int sanitizer_eperm[] = {
    SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(readlink),
    SCMP_SYS(readlinkat), SCMP_SYS(pipe), SCMP_SYS(pipe2),
    SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(fork), SCMP_SYS(vfork),
    SCMP_SYS(execve), SCMP_SYS(execveat),
};
#endif

#define N_ELEMS(a) (sizeof (a) / sizeof (a)[0])

/* Options. */

/* Copies 'in' into '*out', with zeros for members the caller's header did
 * not have.  Returns 0 or EINVAL. */
static int
copy_options(const struct fs_sandbox_options *in,
             struct fs_sandbox_options *out)
{
    memset(out, 0, sizeof *out);
    if (!in || in->sz < offsetof(struct fs_sandbox_options, user)
                        + sizeof in->user) {
        return EINVAL;
    }
    for (size_t i = sizeof *out; i < in->sz; i++) {
        if (((const unsigned char *) in)[i]) {
            return EINVAL;      /* A newer caller's member we lack. */
        }
    }
    memcpy(out, in, in->sz < sizeof *out ? in->sz : sizeof *out);
    out->sz = sizeof *out;
    return 0;
}

/* Looks up the user and group for 'o' into 'sb'. */
static int
resolve_ids(struct fs_sandbox *sb, const struct fs_sandbox_options *o)
{
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    const char *name = o->user;
    char buf[16384];
    int error;

    if (!name) {
        error = getpwnam_r(DEFAULT_USER, &pw, buf, sizeof buf, &pwp);
        name = !error && pwp ? DEFAULT_USER : FALLBACK_USER;
    }
    if (!pwp) {
        error = getpwnam_r(name, &pw, buf, sizeof buf, &pwp);
        if (error || !pwp) {
            sb_log(sb, FS_PORT_LOG_ERR, "sandbox: no user \"%s\"%s%s", name,
                   error ? ": " : "", error ? strerror(error) : "");
            return error ? error : ENOENT;
        }
    }
    snprintf(sb->user, sizeof sb->user, "%s", name);
    sb->uid = pw.pw_uid;
    sb->gid = pw.pw_gid;

    if (o->group) {
        error = getgrnam_r(o->group, &gr, buf, sizeof buf, &grp);
        if (error || !grp) {
            sb_log(sb, FS_PORT_LOG_ERR, "sandbox: no group \"%s\"%s%s",
                   o->group, error ? ": " : "",
                   error ? strerror(error) : "");
            return error ? error : ENOENT;
        }
        sb->gid = gr.gr_gid;
    }
    if (!sb->uid || !sb->gid) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: user \"%s\" (uid %u, "
               "gid %u) is root", name, (unsigned) sb->uid,
               (unsigned) sb->gid);
        return EINVAL;
    }
    return 0;
}

/* Resolves and copies the extra system calls and ioctls of 'o'. */
static int
copy_extras(struct fs_sandbox *sb, const struct fs_sandbox_options *o)
{
    size_t n = 0;

    while (o->extra_syscalls && o->extra_syscalls[n]) {
        n++;
    }
    sb->extra_syscalls = calloc(n + 1, sizeof *sb->extra_syscalls);
    sb->extra_ioctls = calloc(o->n_extra_ioctls + 1,
                              sizeof *sb->extra_ioctls);
    if (!sb->extra_syscalls || !sb->extra_ioctls) {
        return ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(o->extra_syscalls[i]);

        if (nr < 0) {
            sb_log(sb, FS_PORT_LOG_ERR, "sandbox: \"%s\" is not a system "
                   "call on this architecture", o->extra_syscalls[i]);
            return EINVAL;
        }
        sb->extra_syscalls[sb->n_extra_syscalls++] = nr;
    }
    if (o->n_extra_ioctls) {
        memcpy(sb->extra_ioctls, o->extra_ioctls,
               o->n_extra_ioctls * sizeof *sb->extra_ioctls);
    }
    sb->n_extra_ioctls = o->n_extra_ioctls;
    return 0;
}

static int
sandbox_init(struct fs_sandbox *sb, const struct fs_sandbox_options *o)
{
    int error;

    if (o->keep_caps >> CAP_LAST_CAP >> 1) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: keep_caps %#llx names a "
               "capability above %d", (unsigned long long) o->keep_caps,
               CAP_LAST_CAP);
        return EINVAL;
    }
    if (o->deny != FS_SANDBOX_DENY_KILL && o->deny != FS_SANDBOX_DENY_EPERM) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: unknown deny action %d",
               (int) o->deny);
        return EINVAL;
    }
    error = resolve_ids(sb, o);
    if (!error) {
        error = copy_extras(sb, o);
    }
    if (!error) {
        sb->status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (sb->status_fd < 0) {
            error = errno;
            sb_log(sb, FS_PORT_LOG_ERR, "sandbox: /proc/self/status: %s",
                   strerror(error));
        }
    }
    return error;
}

int
fs_sandbox_create(const struct fs_sandbox_options *options_,
                  struct fs_sandbox **sbp)
{
    struct fs_sandbox_options o;
    struct fs_sandbox *sb;
    int error;

    *sbp = NULL;
    error = copy_options(options_, &o);
    if (error) {
        if (options_ && options_->sz >= sizeof o && options_->log) {
            options_->log(options_->log_aux, FS_PORT_LOG_ERR,
                          "sandbox: fs_sandbox_options has members this "
                          "library does not know");
        }
        return error;
    }

    sb = calloc(1, sizeof *sb);
    if (!sb) {
        return ENOMEM;
    }
    sb->stage = STAGE_CREATED;
    sb->keep_caps = o.keep_caps;
    sb->keep_dumpable = o.keep_dumpable;
    sb->deny = o.deny;
    sb->log = o.log;
    sb->log_aux = o.log_aux;
    sb->status_fd = -1;

    error = sandbox_init(sb, &o);
    if (error) {
        fs_sandbox_destroy(sb);
        return error;
    }
    *sbp = sb;
    return 0;
}

void
fs_sandbox_destroy(struct fs_sandbox *sb)
{
    if (sb) {
        if (sb->status_fd >= 0) {
            close(sb->status_fd);
        }
        free(sb->extra_syscalls);
        free(sb->extra_ioctls);
        free(sb);
    }
}

const char *
fs_sandbox_user(const struct fs_sandbox *sb)
{
    return sb->user;
}

void
fs_sandbox_get_ids(const struct fs_sandbox *sb, uid_t *uid, gid_t *gid)
{
    *uid = sb->uid;
    *gid = sb->gid;
}

/* Status. */

/* Parses the "Name:\t..." line of /proc/self/status 'text' with 'format'
 * into the pointers that follow, and returns how many it stored (0 if
 * the line is missing). */
static int
status_field(const char *text, const char *name, const char *format, ...)
{
    size_t len = strlen(name);
    const char *p = text;
    va_list args;
    int n;

    while (strncmp(p, name, len) || p[len] != ':') {
        p = strchr(p, '\n');
        if (!p++) {
            return 0;
        }
    }
    va_start(args, format);
    n = vsscanf(p + len + 1, format, args);
    va_end(args);
    return n < 0 ? 0 : n;
}

/* Counts the supplementary groups in the "Groups:" line of 'text'. */
static void
status_groups(const char *text, struct fs_sandbox_status *s)
{
    const char *p = strstr(text, "\nGroups:");
    char *end;

    if (!p) {
        return;
    }
    p += strlen("\nGroups:");
    for (;;) {
        unsigned long g = strtoul(p, &end, 10);

        if (end == p) {
            break;
        }
        s->n_groups++;
        s->root_group |= g == 0;
        p = end;
    }
}

int
fs_sandbox_get_status(struct fs_sandbox *sb, struct fs_sandbox_status *s)
{
    char text[8192];
    ssize_t n;
    int ok;

    memset(s, 0, sizeof *s);
    n = pread(sb->status_fd, text, sizeof text - 1, 0);
    if (n <= 0) {
        int error = n < 0 ? errno : EIO;
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: reading /proc/self/status: %s",
               n < 0 ? strerror(error) : "empty");
        return error;
    }
    text[n] = '\0';

    ok = (status_field(text, "Uid", "%u %u %u %u", &s->uid[0], &s->uid[1],
                       &s->uid[2], &s->uid[3]) == 4
          && status_field(text, "Gid", "%u %u %u %u", &s->gid[0],
                          &s->gid[1], &s->gid[2], &s->gid[3]) == 4
          && status_field(text, "CapInh", "%" SCNx64, &s->cap_inh) == 1
          && status_field(text, "CapPrm", "%" SCNx64, &s->cap_prm) == 1
          && status_field(text, "CapEff", "%" SCNx64, &s->cap_eff) == 1
          && status_field(text, "CapBnd", "%" SCNx64, &s->cap_bnd) == 1
          && status_field(text, "CapAmb", "%" SCNx64, &s->cap_amb) == 1
          && status_field(text, "NoNewPrivs", "%d", &s->no_new_privs) == 1
          && status_field(text, "Seccomp", "%d", &s->seccomp) == 1);
    if (!ok) {
        memset(s, 0, sizeof *s);
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: /proc/self/status lacks "
               "Uid, Gid, Cap*, NoNewPrivs or Seccomp");
        return EPROTO;
    }
    if (status_field(text, "Seccomp_filters", "%d", &s->seccomp_filters)
        != 1) {
        s->seccomp_filters = -1;
    }
    status_groups(text, s);
    return 0;
}

/* Logs a mismatch of 'what' (ERR) if 'ok' is false; returns 'ok'. */
static bool
expect(const struct fs_sandbox *sb, bool ok, const char *what,
       unsigned long long have, unsigned long long want)
{
    if (!ok) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: %s is %#llx, expected %#llx",
               what, have, want);
    }
    return ok;
}

int
fs_sandbox_verify(struct fs_sandbox *sb)
{
    struct fs_sandbox_status s;
    uint64_t caps;
    bool ok = true;
    int error;

    error = fs_sandbox_get_status(sb, &s);
    if (error) {
        return error;
    }
    sb_log(sb, FS_PORT_LOG_INFO, "sandbox: uid %u gid %u, %u groups, "
           "caps eff %#" PRIx64 " prm %#" PRIx64 " inh %#" PRIx64
           " bnd %#" PRIx64 " amb %#" PRIx64 ", no_new_privs %d, "
           "seccomp %d (%d filters)", (unsigned) s.uid[0],
           (unsigned) s.gid[0], s.n_groups, s.cap_eff, s.cap_prm, s.cap_inh,
           s.cap_bnd, s.cap_amb, s.no_new_privs, s.seccomp,
           s.seccomp_filters);
    if (sb->stage == STAGE_CREATED) {
        return 0;
    }

    for (int i = 0; i < 4; i++) {
        ok &= expect(sb, s.uid[i] == sb->uid, "a uid", s.uid[i], sb->uid);
        ok &= expect(sb, s.gid[i] == sb->gid, "a gid", s.gid[i], sb->gid);
    }
    ok &= expect(sb, !s.n_groups, "the number of supplementary groups",
                 s.n_groups, 0);
    caps = sb->stage == STAGE_LOCKED ? 0 : sb->keep_caps;
    ok &= expect(sb, s.cap_eff == caps, "CapEff", s.cap_eff, caps);
    ok &= expect(sb, s.cap_prm == caps, "CapPrm", s.cap_prm, caps);
    ok &= expect(sb, !s.cap_inh, "CapInh", s.cap_inh, 0);
    ok &= expect(sb, !s.cap_bnd, "CapBnd", s.cap_bnd, 0);
    ok &= expect(sb, !s.cap_amb, "CapAmb", s.cap_amb, 0);
    ok &= expect(sb, s.no_new_privs == 1, "NoNewPrivs", s.no_new_privs, 1);
    if (sb->stage == STAGE_LOCKED) {
        ok &= expect(sb, s.seccomp == 2, "Seccomp", s.seccomp, 2);
        ok &= expect(sb, s.seccomp_filters != 0, "Seccomp_filters",
                     s.seccomp_filters, 1);
    }
    return ok ? 0 : ENOTRECOVERABLE;
}

/* Dropping privileges. */

static bool
has_ids(uid_t uid, gid_t gid)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;

    return (!getresuid(&r, &e, &s) && r == uid && e == uid && s == uid
            && !getresgid(&rg, &eg, &sg) && rg == gid && eg == gid
            && sg == gid && getgroups(0, NULL) == 0);
}

/* Sets libcap-ng's state to 'caps' in the effective and permitted sets,
 * nothing in the others. */
static int
set_capng_state(const struct fs_sandbox *sb, uint64_t caps)
{
    capng_clear(CAPNG_SELECT_ALL);
    for (unsigned int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        if (caps & FS_SANDBOX_CAP(cap)
            && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
                            cap)) {
            sb_log(sb, FS_PORT_LOG_ERR, "sandbox: libcap-ng does not "
                   "know capability %u", cap);
            return EINVAL;
        }
    }
    return 0;
}

static int
change_ids(struct fs_sandbox *sb)
{
    int error = set_capng_state(sb, sb->keep_caps);
    int rc;

    if (error) {
        return error;
    }
    if (has_ids(sb->uid, sb->gid)) {
        /* Started as the user already: only the capabilities to drop. */
        rc = capng_apply(CAPNG_SELECT_ALL);
    } else {
        rc = capng_change_id(sb->uid, sb->gid,
                             CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING
                             | CAPNG_CLEAR_AMBIENT);
    }
    if (rc) {
        error = errno ? errno : EPERM;
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: cannot become %s (uid %u, "
               "gid %u) keeping capabilities %#llx (libcap-ng: %d): %s",
               sb->user, (unsigned) sb->uid, (unsigned) sb->gid,
               (unsigned long long) sb->keep_caps, rc, strerror(error));
        return error;
    }
    return 0;
}

int
fs_sandbox_drop_privileges(struct fs_sandbox *sb)
{
    int error;

    if (sb->stage != STAGE_CREATED) {
        return EALREADY;
    }
    /* One malloc arena for every thread (fs-sandbox.h): glibc reads
     * /proc/sys/vm/overcommit_memory when it first shrinks a thread's
     * heap, and the main arena shrinks with brk() instead.  (A sanitizer's
     * allocator replaces glibc's, has no such arenas and refuses.) */
#if !FS_SANDBOX_SANITIZERS
    if (!mallopt(M_ARENA_MAX, 1)) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: mallopt(M_ARENA_MAX) failed");
        return EINVAL;
    }
#endif
    errno = 0;
    error = change_ids(sb);
    if (error) {
        return error;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        || prctl(PR_SET_DUMPABLE, sb->keep_dumpable ? 1 : 0, 0, 0, 0)) {
        error = errno;
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: prctl: %s", strerror(error));
        return error;
    }
    sb->stage = STAGE_DROPPED;

    error = fs_sandbox_verify(sb);
    if (!error && (!setuid(0) || !setgid(0))) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: could become root again");
        error = ENOTRECOVERABLE;
    }
    if (!error) {
        sb_log(sb, FS_PORT_LOG_INFO, "sandbox: running as %s (uid %u, "
               "gid %u)", sb->user, (unsigned) sb->uid, (unsigned) sb->gid);
    }
    return error;
}

/* The filter. */

/* Adds rules for 'n' values of argument 'arg' of 'nr' to 'ctx'. */
static int
allow_values(scmp_filter_ctx ctx, int nr, unsigned int arg,
             const unsigned long *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                  SCMP_CMP(arg, SCMP_CMP_EQ, values[i]));
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* Adds the rules that look at arguments. */
static int
add_arg_rules(struct fs_sandbox *sb, scmp_filter_ctx ctx)
{
    uint64_t pid = getpid();
    int rc;

    rc = allow_values(ctx, SCMP_SYS(ioctl), 1, allowed_ioctls,
                      N_ELEMS(allowed_ioctls));
    rc = rc ? rc : allow_values(ctx, SCMP_SYS(ioctl), 1, sb->extra_ioctls,
                                sb->n_extra_ioctls);
    if (!rc) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_EQ, TCGETS));
        rc = rc == -EEXIST ? 0 : rc;    /* Allowed as an extra. */
    }
    rc = rc ? rc : allow_values(ctx, SCMP_SYS(fcntl), 1, allowed_fcntls,
                                N_ELEMS(allowed_fcntls));

    /* Memory, never executable. */
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                                    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC,
                                            0));
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
                                    1, SCMP_A2(SCMP_CMP_MASKED_EQ,
                                               PROT_EXEC, 0));

    /* sendto() only without a destination: the transmit ring's kick. */
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto),
                                    1, SCMP_A4(SCMP_CMP_EQ, 0));

    /* Signals only to itself (raise(), abort()). */
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill),
                                    1, SCMP_A0(SCMP_CMP_EQ, pid));
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
                                    SCMP_A0(SCMP_CMP_EQ, pid));

    /* fstat() is fstatat(fd, "", AT_EMPTY_PATH) in glibc. */
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
                                    SCMP_SYS(newfstatat), 1,
                                    SCMP_A3(SCMP_CMP_MASKED_EQ,
                                            AT_EMPTY_PATH, AT_EMPTY_PATH));
    return rc;
}

static int
add_rules(struct fs_sandbox *sb, scmp_filter_ctx ctx)
{
    int rc = 0;

    for (size_t i = 0; !rc && i < N_ELEMS(allowed); i++) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    }
    for (size_t i = 0; !rc && i < sb->n_extra_syscalls; i++) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sb->extra_syscalls[i], 0);
    }
    rc = rc ? rc : add_arg_rules(sb, ctx);
#if FS_SANDBOX_SANITIZERS
    for (size_t i = 0; !rc && sb->deny == FS_SANDBOX_DENY_KILL
                       && i < N_ELEMS(sanitizer_eperm); i++) {
        int nr = sanitizer_eperm[i];

        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        if (rc == -EEXIST) {
            rc = 0;             /* Allowed as an extra. */
        }
    }
    if (!rc && sb->deny == FS_SANDBOX_DENY_KILL) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
                              SCMP_SYS(newfstatat), 1,
                              SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
    }
#endif
    return rc;
}

static int
load_filter(struct fs_sandbox *sb)
{
    uint32_t deny = (sb->deny == FS_SANDBOX_DENY_EPERM
                     ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_KILL_PROCESS);
    scmp_filter_ctx ctx = seccomp_init(deny);
    int rc;

    if (!ctx) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: seccomp_init failed");
        return ENOMEM;
    }
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    rc = rc ? rc : seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                                    SCMP_ACT_KILL_PROCESS);
    rc = rc ? rc : add_rules(sb, ctx);
    rc = rc ? rc : seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc) {
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: installing the seccomp "
               "filter: %s", strerror(-rc));
        return -rc;
    }
    return 0;
}

int
fs_sandbox_drop_thread_caps(void)
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
    };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    /* The raw calls: they act on this thread alone, with no library
     * state in between. */
    memset(data, 0, sizeof data);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        && errno != EINVAL) {
        return errno;
    }
    if (syscall(SYS_capset, &hdr, data)) {
        return errno;
    }
    if (syscall(SYS_capget, &hdr, data)) {
        return errno;
    }
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            return ENOTRECOVERABLE;
        }
    }
    return 0;
}

int
fs_sandbox_lock(struct fs_sandbox *sb)
{
    int error;

    if (sb->stage == STAGE_LOCKED) {
        return EALREADY;
    }
    if (sb->stage == STAGE_CREATED) {
        error = fs_sandbox_drop_privileges(sb);
        if (error) {
            return error;
        }
    }

    /* The capabilities kept for set-up go (from this thread: capability
     * sets are per thread, see fs-sandbox.h). */
    error = set_capng_state(sb, 0);
    if (!error && capng_apply(CAPNG_SELECT_CAPS)) {
        error = errno ? errno : EPERM;
        sb_log(sb, FS_PORT_LOG_ERR, "sandbox: cannot drop capabilities: %s",
               strerror(error));
    }
    if (error) {
        return error;
    }

#if FS_SANDBOX_SANITIZERS
    /* LeakSanitizer's check at exit needs clone() and ptrace(): run it
     * now, which also turns that one off. */
    __lsan_do_leak_check();
#endif

    error = load_filter(sb);
    if (error) {
        return error;
    }
    sb->stage = STAGE_LOCKED;
    error = fs_sandbox_verify(sb);
    if (!error) {
        sb_log(sb, FS_PORT_LOG_INFO, "sandbox: locked (seccomp filter, "
               "%s on denied calls)", (sb->deny == FS_SANDBOX_DENY_EPERM
                                       ? "EPERM" : "kill"));
    }
    return error;
}

int
fs_sandbox_thread_create(pthread_t *thread, void *(*start)(void *),
                         void *arg)
{
    static const int faults[] = {
        SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP,
    };
    sigset_t all, old;
    int error;

    sigfillset(&all);
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) {
        sigdelset(&all, faults[i]);
    }
    pthread_sigmask(SIG_SETMASK, &all, &old);
    error = pthread_create(thread, NULL, start, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return error;
}
