/*
 * fs-sandbox: the sandbox of the inspector appliance
 * (flowsteer-inspectord), the process that runs nDPI and the packet I/O
 * ports (fs-port.h) away from the root daemon flowsteerd.
 *
 * Threat model
 * ------------
 * nDPI parses bytes a hostile VM chose, in C, at line rate: it has had
 * memory-safety bugs and will have more.  Assume an attacker who gets
 * code execution in the appliance through a crafted packet.  The
 * sandbox's job is that this buys the attacker as little as possible:
 *
 *   - No root, no capabilities.  The process runs as an unprivileged
 *     user (by default "flowsteer", else "nobody"), with no supplementary
 *     groups and every capability set empty once locked (CAP_NET_RAW, if
 *     kept, only until fs_sandbox_lock()).  All three uids and gids are
 *     changed, so it cannot switch back to root; PR_SET_NO_NEW_PRIVS means
 *     no set-uid program or file capability could give anything back, and
 *     the process is not dumpable, so processes of the same user cannot
 *     ptrace it or read its memory through /proc.
 *
 *   - After fs_sandbox_lock(), a seccomp filter (on every thread) allows
 *     only what a packet worker does with what it already holds: I/O on
 *     open file descriptors, waiting, clocks, memory (never executable:
 *     mmap and mprotect with PROT_EXEC are refused), signals to itself,
 *     exit.  It cannot open a file, create a socket, connect, bind or
 *     accept, exec a program, fork or clone (so no new threads either),
 *     ptrace, signal another process, mount, change ids or capabilities,
 *     or load a BPF program.  Other architectures' system call numbers
 *     (a 32-bit int 0x80 from a 64-bit process) kill it.
 *
 * What a compromised appliance can still do, and so what the rest of the
 * design must not trust it with:
 *
 *   - Anything with the descriptors it holds.  With an AF_PACKET socket it
 *     can read every frame of the interfaces it sees and send any frame:
 *     sendto() must have no destination (the backend's transmit kick), but
 *     sendmsg()/sendmmsg() carry an address seccomp cannot read, so it can
 *     send on any interface of its network namespace.  Run it in a
 *     namespace that holds only its own ports.
 *   - Lie in its verdicts, or send flowsteerd malformed messages over
 *     its control socket: flowsteerd must validate what it receives.
 *   - Burn CPU and the memory it is allowed (set RLIMIT_AS, or a cgroup,
 *     before starting it); crash, hang, or exit.
 *   - Use a kernel bug reachable through the allowed calls.
 *
 * Denied calls and how they are seen
 * ----------------------------------
 * A call outside the allowlist kills the whole process at once
 * (SCMP_ACT_KILL_PROCESS, FS_SANDBOX_DENY_KILL, the default), rather than
 * failing with EPERM.  The appliance never makes these calls when it
 * works as designed, so one is either an attack or a bug; killing fails
 * closed, gives an exploit no second try and no oracle for probing the
 * filter, and a bug (say, a new glibc using a new system call) shows at
 * once in testing instead of as a path that silently misbehaves.  The
 * process cannot log its own death: its supervisor (flowsteerd, which
 * forks it) sees WTERMSIG == SIGSYS from waitpid(), must log it as "killed
 * by the sandbox" and restart it with a back-off, and the kernel's audit
 * log (dmesg or auditd: "type=1326 ... syscall=N") names the call.
 * FS_SANDBOX_DENY_EPERM is for development: the call fails with EPERM,
 * which strace shows, to find what an appliance needs.
 *
 * The few calls that libraries make on their own and cope with failing
 * are refused with an error instead of killing: ioctl(TCGETS) (isatty(),
 * from stdio) fails with ENOTTY.
 *
 * Sanitizer builds (--enable-sanitizers: ASan and UBSan; detected at
 * compile time, FS_SANDBOX_SANITIZERS) keep the same filter and the same
 * default action, with two allowances for the runtimes:
 *   - LeakSanitizer's check at exit stops the world with clone() and
 *     ptrace(), which the filter kills: fs_sandbox_lock() runs the leak
 *     check itself first, and that disables the one at exit.  Leaks from
 *     set-up are reported; leaks after locking are not.
 *   - The calls a report makes to find and symbolize the program (open,
 *     openat, readlink, readlinkat, stat by path; pipe, clone, fork,
 *     execve to spawn a symbolizer) fail with EPERM instead of killing:
 *     without this, a UBSan report is lost entirely (its first call is
 *     readlink("/proc/self/exe")) and an ASan report stops at its first
 *     stack trace.  With it, both are printed in full, unsymbolized
 *     (symbolize offline with addr2line), before the runtime ends the
 *     process.
 * So in a sanitizer build those calls are refused with EPERM; every other
 * denied call still kills.
 *
 * Use
 * ---
 * In the appliance's main(), before any thread is created: glibc changes
 * the ids of every thread, but capability sets are per thread, so only the
 * threads created after fs_sandbox_drop_privileges() start without them.
 * (A thread created between the two steps keeps the kept capabilities
 * after fs_sandbox_lock(), which drops them from the calling thread only;
 * the filter, which covers every thread, still stops it from making a
 * socket.)
 *
 *     struct fs_sandbox_options so = FS_SANDBOX_OPTIONS_INIT;
 *     so.keep_caps = FS_SANDBOX_CAP(CAP_NET_RAW);
 *     so.log = my_log;
 *     error = fs_sandbox_create(&so, &sb);            (still root)
 *     error = error ? error : fs_sandbox_drop_privileges(sb);
 *     ... open ports (fs_port_open()), the control socket, threads, EAL ...
 *     error = error ? error : fs_sandbox_lock(sb);
 *     ... packet loop; on any error, exit ...
 *
 * Conventions, as in fs-port.h: functions that can fail return 0 or a
 * positive errno value and never print, abort or exit; details go to the
 * log callback in the options.  A failure of fs_sandbox_drop_privileges()
 * or fs_sandbox_lock() leaves the process in a state between the two: the
 * caller must exit, not carry on.
 *
 * Ports: an afpacket port opened before locking receives, transmits (its
 * ring's kick is sendto() without an address) and reads its statistics
 * after it.  But fs_port_check() looks its interface up with
 * if_nametoindex(), which opens a socket, so after locking it kills the
 * process: do not call it then, until the backend asks SIOCGIFINDEX on its
 * own socket instead (allowed here for that).
 *
 * Not for: restricting DPDK's EAL initialization (it opens files,
 * hugepages and sockets: run it between the two steps); vfio (not needed
 * with virtio_user).  DPDK 22.11's virtio_user with vhost-user, measured
 * (a loop of rte_eth_rx_burst, rte_eth_tx_burst, stats and
 * rte_eth_link_get_nowait against a net_vhost peer, locked after
 * rte_eal_init() and the port's start, under strace): the bursts make no
 * system call at all (shared memory), the link query is recvfrom(MSG_PEEK)
 * on the vhost-user socket, usleep() is clock_nanosleep: no extra call is
 * needed for the data path.  EAL's own threads, made by rte_eal_init(),
 * are another matter:
 *   - the telemetry thread waits in accept() on its socket, and its
 *     destructor unlinks the socket at exit: locked, the appliance was
 *     killed at exit, and would be by any local client connecting.
 *     Pass --no-telemetry (then it ran and exited cleanly).
 *   - the multi-process thread waits in recvmsg() (allowed) and then
 *     opens files for secondary processes: pass --no-shconf (implied by
 *     --in-memory), which removes it.
 *   - the interrupt thread waits in epoll_wait() (allowed) and adds and
 *     removes descriptors with epoll_ctl on link events; reconnecting to
 *     a restarted vhost-user backend needs socket() and connect().  List
 *     "epoll_ctl" in 'extra_syscalls' if the appliance handles link
 *     interrupts, and restart the appliance on a lost backend rather
 *     than reconnect.
 */
#ifndef FS_SANDBOX_H
#define FS_SANDBOX_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs-port.h"            /* The log callback. */

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if this is built with AddressSanitizer (--enable-sanitizers), with the
 * allowances described above, else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define FS_SANDBOX_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FS_SANDBOX_SANITIZERS 1
#endif
#endif
#ifndef FS_SANDBOX_SANITIZERS
#define FS_SANDBOX_SANITIZERS 0
#endif

struct fs_sandbox;

/* A capability number (CAP_* from <linux/capability.h>) as a bit of
 * fs_sandbox_options.keep_caps and fs_sandbox_status.cap_*. */
#define FS_SANDBOX_CAP(cap) (UINT64_C(1) << (cap))

/* What a call outside the allowlist does. */
enum fs_sandbox_deny {
    FS_SANDBOX_DENY_KILL,       /* Kill the process (the default). */
    FS_SANDBOX_DENY_EPERM,      /* Fail with EPERM (development only). */
};

/* Options for fs_sandbox_create().  Initialize with
 * FS_SANDBOX_OPTIONS_INIT or zero it and set 'sz': zero means "the
 * default" for every other member, and members added later are appended,
 * as in fs_port_options. */
struct fs_sandbox_options {
    size_t sz;                  /* sizeof(struct fs_sandbox_options). */

    /* The user to become, by name, and the group (by default the user's
     * own).  With 'user' NULL: "flowsteer" if that user exists (the
     * packages create it as a system user with its own group), else
     * "nobody".  Its uid must not be 0, nor the group's gid. */
    const char *user;
    const char *group;

    /* Capabilities kept, in the effective and permitted sets, from
     * fs_sandbox_drop_privileges() until fs_sandbox_lock(), which drops
     * them too: FS_SANDBOX_CAP(CAP_NET_RAW) to open an AF_PACKET port, or
     * 0 (the default) for none, e.g. with a port whose socket was handed
     * over.  The inheritable, ambient and bounding sets are always left
     * empty. */
    uint64_t keep_caps;

    /* True to leave the process dumpable (core files; ptrace by the same
     * user before fs_sandbox_lock()), for debugging only. */
    bool keep_dumpable;

    enum fs_sandbox_deny deny;  /* See above. */

    /* More system calls to allow, with any arguments, after
     * fs_sandbox_lock(): names as in syscalls(2) ("epoll_ctl"), in a
     * NULL-terminated array, or NULL.  More ioctl() requests to allow, on
     * any descriptor: 'n_extra_ioctls' values at 'extra_ioctls'.  A name
     * unknown on this architecture is an error (EINVAL).  The caller
     * retains ownership of both arrays; they are read only by
     * fs_sandbox_create(). */
    const char *const *extra_syscalls;
    const unsigned long *extra_ioctls;
    size_t n_extra_ioctls;

    fs_port_log_cb *log;        /* May be NULL: no messages. */
    void *log_aux;              /* Passed to 'log'. */
};
#define FS_SANDBOX_OPTIONS_INIT { .sz = sizeof(struct fs_sandbox_options) }

/* The process's credentials as the kernel reports them in
 * /proc/self/status. */
struct fs_sandbox_status {
    uid_t uid[4];               /* Real, effective, saved, filesystem. */
    gid_t gid[4];
    unsigned int n_groups;      /* Supplementary groups. */
    bool root_group;            /* One of them is 0. */
    uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
    int no_new_privs;           /* 0 or 1. */
    int seccomp;                /* 0 none, 1 strict, 2 filter. */
    int seccomp_filters;        /* Filters installed, or -1 if the kernel
                                 * does not say (before 5.9). */
};

/* Prepares to sandbox the calling process, as described by 'options', and
 * stores the sandbox in '*sbp': looks up the user and group, checks the
 * options and opens /proc/self/status, which it keeps open for
 * fs_sandbox_get_status() after the filter denies open().  Changes
 * nothing yet.  Returns 0 on success; otherwise stores NULL in '*sbp' and
 * returns a positive errno value, with details sent to options->log:
 *
 *   EINVAL   bad options (unknown system call name, 'sz' too small or
 *            larger with nonzero members this library does not know,
 *            a capability number above 63, a user or group that is root)
 *   ENOENT   no such user or group
 *   other    from reading /proc or the user database
 *
 * The caller retains ownership of 'options' and what it points to; the
 * sandbox keeps copies.  On success the caller owns the sandbox and frees
 * it with fs_sandbox_destroy() (the process stays sandboxed). */
int fs_sandbox_create(const struct fs_sandbox_options *options,
                      struct fs_sandbox **sbp);

/* Frees 'sb' and closes its descriptor.  Undoes nothing.  Accepts NULL. */
void fs_sandbox_destroy(struct fs_sandbox *sb);

/* Becomes the sandbox's user and group, with no supplementary groups,
 * keeping only 'keep_caps' (effective and permitted; every other set
 * empty), sets PR_SET_NO_NEW_PRIVS and, unless 'keep_dumpable', clears
 * PR_SET_DUMPABLE; then checks the result (fs_sandbox_verify()) and that
 * setuid(0) fails.  Also makes every thread allocate from glibc's main
 * malloc arena (M_ARENA_MAX 1): the first time glibc shrinks a thread's
 * own arena it opens /proc/sys/vm/overcommit_memory, which the filter
 * would punish.  Must be called before the process creates threads,
 * by root or a process with CAP_SETUID, CAP_SETGID and CAP_SETPCAP (if it
 * already is the user and group, those are not needed).  Returns 0 on
 * success, or:
 *
 *   EPERM            not allowed to change ids or capabilities
 *   EALREADY         called twice
 *   ENOTRECOVERABLE  the process does not have the credentials asked
 *                    for (details logged): exit
 *   other            from the system calls
 */
int fs_sandbox_drop_privileges(struct fs_sandbox *sb);

/* Drops every capability still held and installs the seccomp filter on
 * all threads (SECCOMP_FILTER_FLAG_TSYNC), then checks the result
 * (fs_sandbox_verify()).  Call it once set-up is done and every
 * descriptor and thread the process will use exists; from then on, a call
 * outside the allowlist kills the process (see above).  Calls
 * fs_sandbox_drop_privileges() first if that was not done.  Returns 0 on
 * success, or:
 *
 *   EALREADY         called twice
 *   ENOTRECOVERABLE  the result is not what was asked for: exit
 *   other            from libseccomp or the system calls (e.g. ESRCH:
 *                    a thread could not be synchronized)
 */
int fs_sandbox_lock(struct fs_sandbox *sb);

/* Drops every capability of the calling thread (effective, permitted,
 * inheritable and ambient), for a thread started after
 * fs_sandbox_drop_privileges() that must not keep what the thread that
 * started it still holds for set-up: capabilities are per thread, and
 * fs_sandbox_lock() drops only its caller's.  Checks the result.  Returns
 * 0 or a positive errno value (ENOTRECOVERABLE: a capability is left). */
int fs_sandbox_drop_thread_caps(void);

/* Starts a plain thread (not ovs_thread_create()'s) running 'start'(arg)
 * with every signal blocked but those that report a fault of its own
 * (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP): the process's
 * signals, and OVS's fatal-signal handling, stay with the main thread.
 * Returns 0 or pthread_create()'s positive errno value. */
int fs_sandbox_thread_create(pthread_t *thread, void *(*start)(void *),
                             void *arg);

/* Reads the process's credentials into '*status' (through the descriptor
 * opened by fs_sandbox_create(), so it works after fs_sandbox_lock()).
 * Returns 0, or a positive errno value if /proc/self/status cannot be
 * read or parsed (then '*status' is zeroed). */
int fs_sandbox_get_status(struct fs_sandbox *sb,
                          struct fs_sandbox_status *status);

/* Checks the process's credentials against what the sandbox has done so
 * far (nothing, dropped, or locked): no uid or gid 0 and no supplementary
 * groups once dropped; exactly 'keep_caps' effective and permitted, and
 * no capability in the inheritable, bounding or ambient set, once
 * dropped; none at all once locked; no_new_privs once dropped; seccomp
 * mode 2 once locked.  Logs one line with the credentials (INFO), and one
 * per mismatch (ERR).  Returns 0 if they are as expected, ENOTRECOVERABLE
 * if not, or the error of fs_sandbox_get_status(). */
int fs_sandbox_verify(struct fs_sandbox *sb);

/* Returns the name of the user the sandbox becomes (after the default was
 * resolved), valid until fs_sandbox_destroy(). */
const char *fs_sandbox_user(const struct fs_sandbox *sb);

/* Stores the user and group the sandbox becomes in '*uid' and '*gid' (for
 * a parent that prepares what the sandboxed process may use, such as a
 * directory of its own). */
void fs_sandbox_get_ids(const struct fs_sandbox *sb, uid_t *uid,
                        gid_t *gid);

#ifdef __cplusplus
}
#endif

#endif /* fs-sandbox.h */
