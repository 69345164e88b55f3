/*
 * fs-sandbox: each case forks a child that enters the sandbox and then
 * does one thing; the parent asserts how the child ended.  Forbidden
 * things must kill the child with SIGSYS (or, in a sanitizer build, for
 * the calls listed there, fail with EPERM: see fs-sandbox.h); allowed
 * things must still work.  Capabilities and ids are checked with the
 * kernel's own interfaces (capget, PR_CAPBSET_READ, getresuid), not with
 * the library's reading of /proc.
 *
 * Usage: test-sandbox [IFACE PEER]
 * Needs root (it changes ids); exits 77 otherwise.  With IFACE and PEER,
 * the two ends of a veth pair (tests/sandbox.sh makes them in a network
 * namespace), it also checks that an AF_PACKET port and a raw socket
 * opened before locking still receive and transmit after it.
 */
#include <config.h>

#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs-port.h"
#include "fs-sandbox.h"
#include "test-util.h"

/* Exit codes of a child (besides 0, "as expected"). */
#define CHILD_SUCCEEDED 10      /* A forbidden call succeeded. */
#define CHILD_EPERM 11          /* ...failed with EPERM. */
#define CHILD_OTHER_ERRNO 12    /* ...failed with another errno. */
#define CHILD_SETUP_FAILED 13   /* The sandbox could not be entered. */
#define CHILD_BROKEN 14         /* An allowed thing did not work. */

#define TEST_ETHERTYPE 0x88b5   /* IEEE local experimental. */

static const char *iface, *peer;

static void
child_log(void *aux, enum fs_port_log_level level, const char *msg)
{
    if (level != FS_PORT_LOG_INFO || getenv("TEST_SANDBOX_VERBOSE")) {
        fprintf(stderr, "  [child %d] %s\n", (int) getpid(), msg);
    }
}

/* Enters the sandbox, keeping 'keep_caps' until locked (or for good, if
 * not 'lock').  Returns the sandbox, or exits. */
static struct fs_sandbox *
enter(uint64_t keep_caps, enum fs_sandbox_deny deny, bool lock)
{
    struct fs_sandbox_options so = FS_SANDBOX_OPTIONS_INIT;
    struct fs_sandbox *sb;

    so.keep_caps = keep_caps;
    so.deny = deny;
    so.log = child_log;
    if (fs_sandbox_create(&so, &sb)
        || fs_sandbox_drop_privileges(sb)
        || (lock && fs_sandbox_lock(sb))) {
        _exit(CHILD_SETUP_FAILED);
    }
    return sb;
}

/* Runs 'fn' in a child and returns its wait status. */
static int
run_child(int (*fn)(void *), void *aux)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    } else if (!pid) {
        /* _exit(): no atexit handlers (LeakSanitizer's) in the child. */
        _exit(fn(aux));
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            exit(1);
        }
    }
    return status;
}

static const char *
describe(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status)) {
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    } else {
        snprintf(buf, size, "exited %d", WEXITSTATUS(status));
    }
    return buf;
}

/* Runs 'fn' in a child and checks that it exits 0. */
static void
expect_child_ok(const char *what, int (*fn)(void *), void *aux)
{
    char buf[64];
    int status = run_child(fn, aux);

    printf("  %s: %s\n", what, describe(status, buf, sizeof buf));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Forbidden things. */

/* What a forbidden call's return says, as the child's exit code. */
static int
refused(long rc)
{
    return rc >= 0 ? CHILD_SUCCEEDED
           : errno == EPERM ? CHILD_EPERM : CHILD_OTHER_ERRNO;
}

static int
do_open(void)
{
    return refused(open("/etc/passwd", O_RDONLY));
}

static int
do_openat(void)
{
    /* The system call itself, in case libc's open() ever stops being
     * openat(). */
    return refused(syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY));
}

static int
do_creat(void)
{
    return refused(syscall(SYS_creat, "/tmp/fs-sandbox-test", 0600));
}

static int
do_stat(void)
{
    struct stat st;

    return refused(stat("/etc/shadow", &st));
}

static int
do_socket_inet(void)
{
    return refused(socket(AF_INET, SOCK_STREAM, 0));
}

static int
do_socket_packet(void)
{
    return refused(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
}

static int
do_socketpair(void)
{
    int sv[2];

    return refused(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
}

static int
do_execve(void)
{
    char *argv[] = { "true", NULL };

    return refused(execve("/bin/true", argv, environ));
}

static int
do_fork(void)
{
    pid_t pid = fork();

    if (!pid) {
        _exit(0);
    }
    return refused(pid);
}

static int
do_setuid(void)
{
    return refused(syscall(SYS_setuid, 0));
}

static int
do_ptrace(void)
{
    return refused(ptrace(PTRACE_ATTACH, getppid(), NULL, NULL));
}

static int
do_kill_other(void)
{
    return refused(kill(getppid(), 0));
}

static int
do_mmap_exec(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return refused(p == MAP_FAILED ? -1 : 0);
}

static int
do_mprotect_exec(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        return CHILD_BROKEN;
    }
    return refused(mprotect(p, 4096, PROT_READ | PROT_EXEC));
}

static int udp_fd = -1;          /* Made before locking. */

static int
do_sendto_addr(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons(9) };

    return refused(sendto(udp_fd, "x", 1, 0, (struct sockaddr *) &sin,
                          sizeof sin));
}

static int
do_ioctl_other(void)
{
    int n;

    return refused(ioctl(0, FIONREAD, &n));
}

static int
do_prctl(void)
{
    return refused(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

#if defined(__x86_64__)
/* A 32-bit system call (getpid through int 0x80): another architecture's
 * numbers, which the filter does not look at. */
static int
do_int80(void)
{
    long ret = 20;              /* __NR_getpid on i386. */

    __asm__ volatile ("int $0x80" : "+a" (ret) : : "memory");
    errno = ret < 0 ? -ret : 0;
    return refused(ret < 0 ? -1 : 0);
}
#endif

static int pipe_fds[2];

/* A thread that existed before locking is filtered too (TSYNC): it waits
 * until the main thread has locked, then tries open(), and ends the
 * process with the result. */
static void *
thread_open(void *aux)
{
    char c;

    _exit(read(pipe_fds[0], &c, 1) == 1 ? do_open() : CHILD_BROKEN);
}

static int
do_open_in_thread(void)
{
    if (write(pipe_fds[1], "x", 1) != 1) {
        return CHILD_BROKEN;
    }
    for (;;) {
        poll(NULL, 0, 1000);    /* The thread ends the process. */
    }
}

struct forbidden {
    const char *name;
    int (*fn)(void);
    bool san_eperm;             /* EPERM in a sanitizer build. */
};

static const struct forbidden forbidden[] = {
    { "open(\"/etc/passwd\")", do_open, true },
    { "openat(\"/etc/passwd\")", do_openat, true },
    { "creat()", do_creat, false },
    { "stat(\"/etc/shadow\")", do_stat, true },
    { "socket(AF_INET)", do_socket_inet, false },
    { "socket(AF_PACKET)", do_socket_packet, false },
    { "socketpair(AF_UNIX)", do_socketpair, false },
    { "execve(\"/bin/true\")", do_execve, true },
    { "fork()", do_fork, true },
    { "setuid(0)", do_setuid, false },
    { "ptrace(PTRACE_ATTACH, parent)", do_ptrace, false },
    { "kill(parent, 0)", do_kill_other, false },
    { "mmap(PROT_EXEC)", do_mmap_exec, false },
    { "mprotect(PROT_EXEC)", do_mprotect_exec, false },
    { "sendto() with an address", do_sendto_addr, false },
    { "ioctl(FIONREAD)", do_ioctl_other, false },
    { "prctl(PR_SET_DUMPABLE)", do_prctl, false },
    { "open() in a thread made before locking", do_open_in_thread, true },
#if defined(__x86_64__)
    { "int 0x80 (i386 getpid)", do_int80, false },
#endif
};

static int
forbidden_child(void *f_)
{
    const struct forbidden *f = f_;
    pthread_t thread;

    if (f->fn == do_sendto_addr) {
        udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
    } else if (f->fn == do_open_in_thread) {
        if (pipe(pipe_fds)
            || pthread_create(&thread, NULL, thread_open, NULL)) {
            return CHILD_BROKEN;
        }
    }
    enter(0, FS_SANDBOX_DENY_KILL, true);
    return f->fn();
}

static void
test_forbidden(void)
{
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        const struct forbidden *f = &forbidden[i];
        bool eperm = FS_SANDBOX_SANITIZERS && f->san_eperm;
        int status = run_child(forbidden_child, (void *) f);
        bool ok = (eperm
                   ? WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EPERM
                   : WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        char buf[64];

        test_checks++;
        if (!ok) {
            test_failures++;
        }
        printf("  %s %s: %s (expected %s)\n", ok ? "ok" : "FAIL", f->name,
               describe(status, buf, sizeof buf),
               eperm ? "EPERM" : "SIGSYS");
    }
}

/* Allowed things. */

/* In a child: returns CHILD_BROKEN from the function if 'COND' is
 * false. */
#define MUST(COND)                                                          \
    do {                                                                    \
        if (!(COND)) {                                                      \
            fprintf(stderr, "  [child] %s:%d: not true: %s (errno %d)\n",   \
                    __FILE__, __LINE__, #COND, errno);                      \
            return CHILD_BROKEN;                                            \
        }                                                                   \
    } while (0)

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
    got_usr1 = 1;
}

static int
check_locked_status(struct fs_sandbox *sb)
{
    struct fs_sandbox_status s;

    MUST(!fs_sandbox_get_status(sb, &s));
    MUST(s.uid[0] && s.uid[1] && s.uid[2] && s.gid[0] && s.gid[1]);
    MUST(!s.cap_eff && !s.cap_prm && !s.cap_inh && !s.cap_bnd && !s.cap_amb);
    MUST(s.no_new_privs == 1 && s.seccomp == 2 && s.seccomp_filters);
    MUST(!fs_sandbox_verify(sb));
    return 0;
}

static int
allowed_child(void *aux)
{
    enum { BIG = 64 << 20 };
    struct timespec t0, t1, ms = { 0, 1000000 };
    struct fs_sandbox *sb;
    char buf[64], *big;
    struct pollfd pfd;
    int fds[2], error;
    FILE *stream;

    MUST(!pipe(fds) && signal(SIGUSR1, on_usr1) != SIG_ERR);
    sb = enter(0, FS_SANDBOX_DENY_KILL, true);

    MUST(write(fds[1], "ping", 4) == 4);
    pfd = (struct pollfd) { .fd = fds[0], .events = POLLIN };
    MUST(poll(&pfd, 1, 1000) == 1 && pfd.revents & POLLIN);
    MUST(read(fds[0], buf, sizeof buf) == 4 && !memcmp(buf, "ping", 4));

    MUST(!clock_gettime(CLOCK_MONOTONIC, &t0) && !nanosleep(&ms, NULL)
         && !clock_gettime(CLOCK_MONOTONIC, &t1));
    MUST(t1.tv_sec > t0.tv_sec || t1.tv_nsec - t0.tv_nsec >= 1000000);

    big = malloc(BIG);
    MUST(big);
    memset(big, 0xa5, BIG);
    MUST(big[BIG - 1] == (char) 0xa5);
    free(big);

    MUST(getrandom(buf, 16, 0) == 16);
    MUST(!raise(SIGUSR1) && got_usr1);
    MUST(sched_yield() == 0 && getpid() > 1);

    /* stdio on a descriptor from before: fcntl, fstat, and isatty()'s
     * TCGETS, which fails with ENOTTY instead of killing. */
    errno = 0;
    MUST(!isatty(fds[1]) && errno == ENOTTY);
    stream = fdopen(fds[1], "w");
    MUST(stream && fprintf(stream, "pong") == 4 && !fflush(stream));
    MUST(read(fds[0], buf, sizeof buf) == 4 && !memcmp(buf, "pong", 4));
    MUST(!fclose(stream) && !close(fds[0]));

    error = check_locked_status(sb);
    fs_sandbox_destroy(sb);
    return error;
}

/* A thread's own malloc arena, after locking: glibc reads
 * /proc/sys/vm/overcommit_memory the first time it shrinks a thread's
 * heap (found by make bench-dpdk: an appliance worker thread was killed
 * with SIGSYS under a flood of new flows).  The thread exists before the
 * lock, as the appliance's workers do, allocates 32 MB in small blocks
 * after it, frees them, and sorts more than 1 KB (qsort() asks the memory
 * size). */
static int thread_pipe[2];

static int
compare_ints(const void *a_, const void *b_)
{
    int a = *(const int *) a_, b = *(const int *) b_;

    return a < b ? -1 : a > b;
}

static void *
thread_malloc(void *aux)
{
    enum { N = 2048, SIZE = 16 << 10 };
    static char *blocks[N];
    static int ints[4096];
    char c;

    if (read(thread_pipe[0], &c, 1) != 1) {
        _exit(CHILD_BROKEN);
    }
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            blocks[i] = malloc(SIZE);
            if (!blocks[i]) {
                _exit(CHILD_BROKEN);
            }
            memset(blocks[i], i, 64);
        }
        for (int i = N - 1; i >= 0; i--) {
            free(blocks[i]);
        }
    }
    for (int i = 0; i < 4096; i++) {
        ints[i] = (i * 7919) % 4096;
    }
    qsort(ints, 4096, sizeof *ints, compare_ints);
    _exit(ints[0] == 0 && ints[4095] == 4095 ? 0 : CHILD_BROKEN);
}

static int
thread_malloc_child(void *aux)
{
    pthread_t thread;

    if (pipe(thread_pipe)
        || pthread_create(&thread, NULL, thread_malloc, NULL)) {
        return CHILD_BROKEN;
    }
    enter(0, FS_SANDBOX_DENY_KILL, true);
    if (write(thread_pipe[1], "x", 1) != 1) {
        return CHILD_BROKEN;
    }
    for (;;) {
        poll(NULL, 0, 1000);    /* The thread ends the process. */
    }
}

static void
test_allowed(void)
{
    expect_child_ok("allowed after locking", allowed_child, NULL);
    expect_child_ok("malloc, free and qsort in a thread after locking",
                    thread_malloc_child, NULL);
}

/* Capabilities and ids, through the kernel's interfaces. */

static int
get_caps(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];

    if (syscall(SYS_capget, &hdr, d)) {
        return -1;
    }
    *eff = d[0].effective | (uint64_t) d[1].effective << 32;
    *prm = d[0].permitted | (uint64_t) d[1].permitted << 32;
    *inh = d[0].inheritable | (uint64_t) d[1].inheritable << 32;
    return 0;
}

/* Tries to give itself back CAP_SETUID and CAP_SYS_ADMIN. */
static int
raise_caps(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    uint32_t bits = 1u << CAP_SETUID | 1u << CAP_SYS_ADMIN;

    if (syscall(SYS_capget, &hdr, d)) {
        return -1;
    }
    d[0].effective |= bits;
    d[0].permitted |= bits;
    d[0].inheritable |= bits;
    return syscall(SYS_capset, &hdr, d);
}

static int
caps_child(void *keep_)
{
    uint64_t keep = *(const uint64_t *) keep_, eff, prm, inh;
    struct fs_sandbox *sb = enter(keep, FS_SANDBOX_DENY_KILL, false);
    uid_t r, e, s;
    gid_t rg, eg, sg;
    int fd;

    MUST(!get_caps(&eff, &prm, &inh));
    MUST(eff == keep && prm == keep && !inh);
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        MUST(prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0);
        MUST(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 0);
    }
    MUST(!getresuid(&r, &e, &s) && r && e && s);
    MUST(!getresgid(&rg, &eg, &sg) && rg && eg && sg);
    MUST(getgroups(0, NULL) == 0);
    MUST(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    MUST(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);

    /* No way back to root. */
    MUST(setuid(0) < 0 && errno == EPERM);
    MUST(setgid(0) < 0 && errno == EPERM);
    MUST(raise_caps() < 0 && errno == EPERM);

    /* The kept capability works; the others are gone. */
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    MUST(keep & FS_SANDBOX_CAP(CAP_NET_RAW) ? fd >= 0
         : fd < 0 && errno == EPERM);
    MUST(fd < 0 || !close(fd));
    MUST(chown("/", 0, 0) < 0 && errno == EPERM);

    /* Locking drops the kept ones too (capget() is not allowed then). */
    MUST(!fs_sandbox_lock(sb));
    return check_locked_status(sb);
}

static void
test_caps(void)
{
    static const uint64_t keeps[] = { 0, FS_SANDBOX_CAP(CAP_NET_RAW) };

    expect_child_ok("keep_caps 0", caps_child, (void *) &keeps[0]);
    expect_child_ok("keep_caps CAP_NET_RAW", caps_child, (void *) &keeps[1]);
}

/* Options. */

static int
try_create(const struct fs_sandbox_options *so)
{
    struct fs_sandbox *sb;
    int error = fs_sandbox_create(so, &sb);

    CHECK(error ? !sb : sb != NULL);
    fs_sandbox_destroy(sb);
    return error;
}

static void
test_options(void)
{
    static const char *const bad_syscall[] = { "getppid", "no_such", NULL };
    struct {
        struct fs_sandbox_options so;
        char newer[8];
    } big = { .so = FS_SANDBOX_OPTIONS_INIT };
    struct fs_sandbox_options so = FS_SANDBOX_OPTIONS_INIT;
    struct fs_sandbox *sb;

    CHECK_INT(fs_sandbox_create(&so, &sb), 0);
    CHECK(!strcmp(fs_sandbox_user(sb), "flowsteer")
          || !strcmp(fs_sandbox_user(sb), "nobody"));
    CHECK_INT(fs_sandbox_verify(sb), 0);   /* Nothing done, nothing due. */
    fs_sandbox_destroy(sb);
    fs_sandbox_destroy(NULL);

    so.user = "no-such-user-fs-sandbox";
    CHECK_INT(try_create(&so), ENOENT);
    so.user = "root";
    CHECK_INT(try_create(&so), EINVAL);
    so.user = "nobody";
    so.group = "root";
    CHECK_INT(try_create(&so), EINVAL);
    so.group = "no-such-group-fs-sandbox";
    CHECK_INT(try_create(&so), ENOENT);
    so.group = NULL;
    so.extra_syscalls = bad_syscall;
    CHECK_INT(try_create(&so), EINVAL);
    so.extra_syscalls = NULL;
    so.keep_caps = UINT64_C(1) << 63;
    CHECK_INT(try_create(&so), EINVAL);
    so.keep_caps = 0;
    so.deny = 7;
    CHECK_INT(try_create(&so), EINVAL);
    so.deny = FS_SANDBOX_DENY_KILL;
    so.sz = 4;
    CHECK_INT(try_create(&so), EINVAL);

    /* A caller built against a newer header. */
    big.so.sz = sizeof big;
    CHECK_INT(try_create(&big.so), 0);
    big.newer[3] = 1;
    CHECK_INT(try_create(&big.so), EINVAL);
}

/* FS_SANDBOX_DENY_EPERM, and extra system calls and ioctls. */

static int
eperm_child(void *aux)
{
    enter(0, FS_SANDBOX_DENY_EPERM, true);
    MUST(socket(AF_INET, SOCK_DGRAM, 0) < 0 && errno == EPERM);
    MUST(open("/etc/passwd", O_RDONLY) < 0 && errno == EPERM);
    MUST(getppid() < 0 && errno == EPERM);
    return 0;
}

static int
extra_child(void *aux)
{
    static const char *const syscalls[] = { "getppid", NULL };
    static const unsigned long ioctls[] = { FIONREAD };
    struct fs_sandbox_options so = FS_SANDBOX_OPTIONS_INIT;
    struct fs_sandbox *sb;
    int fds[2], n;

    so.extra_syscalls = syscalls;
    so.extra_ioctls = ioctls;
    so.n_extra_ioctls = 1;
    so.log = child_log;
    MUST(!pipe(fds) && write(fds[1], "abc", 3) == 3);
    MUST(!fs_sandbox_create(&so, &sb) && !fs_sandbox_lock(sb));
    MUST(getppid() > 0);
    MUST(!ioctl(fds[0], FIONREAD, &n) && n == 3);
    return check_locked_status(sb);
}

static void
test_deny_eperm_and_extras(void)
{
    expect_child_ok("deny EPERM", eperm_child, NULL);
    expect_child_ok("extra syscalls and ioctls", extra_child, NULL);
}

/* Sanitizer builds: a report after locking is printed in full. */

#if FS_SANDBOX_SANITIZERS
static int report_fd = -1;      /* The child's stderr goes here. */

static int
asan_child(void *aux)
{
    char *volatile p;

    dup2(report_fd, 2);
    enter(0, FS_SANDBOX_DENY_KILL, true);
    p = malloc(16);
    p[16] = 1;                  /* heap-buffer-overflow */
    return p[16] ? CHILD_SUCCEEDED : CHILD_BROKEN;
}

static int
ubsan_child(void *aux)
{
    volatile int x = INT32_MAX;

    dup2(report_fd, 2);
    enter(0, FS_SANDBOX_DENY_KILL, true);
    x += getpid() > 0;          /* signed integer overflow */
    return x ? CHILD_SUCCEEDED : CHILD_BROKEN;
}

static void
check_report(const char *name, int (*fn)(void *), const char *expected)
{
    char report[65536] = "", buf[64];
    size_t len = 0;
    ssize_t n;
    int fds[2], status;

    CHECK(!pipe(fds));
    report_fd = fds[1];
    status = run_child(fn, NULL);
    close(fds[1]);
    while ((n = read(fds[0], report + len, sizeof report - 1 - len)) > 0) {
        len += n;
    }
    close(fds[0]);
    printf("  %s report after locking: %s, %zu bytes%s\n", name,
           describe(status, buf, sizeof buf), len,
           strstr(report, expected) ? "" : ", without its summary");
    /* The runtime ends the process after its report: exit 1, or SIGABRT
     * with abort_on_error=1 (as utilities/quickstart.sh runs the
     * sanitizer build).  Not SIGSYS: the filter let it report. */
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) != 0
           && WEXITSTATUS(status) != CHILD_SUCCEEDED)
          || (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT));
    CHECK(strstr(report, expected) != NULL);
}

static void
test_sanitizer_reports(void)
{
    check_report("ASan", asan_child,
                 "SUMMARY: AddressSanitizer: heap-buffer-overflow");
    check_report("UBSan", ubsan_child,
                 "runtime error: signed integer overflow");
}
#endif

/* An AF_PACKET port and a raw socket opened before locking, on 'iface',
 * with frames sent from 'peer'. */

static const char test_payload[] = "fs-sandbox-test";

/* Makes a 60-byte broadcast test frame in 'frame', with 'tag' after the
 * payload, and returns its length. */
static size_t
make_frame(uint8_t frame[60], char tag)
{
    memset(frame, 0, 60);
    memset(frame, 0xff, 6);
    memcpy(frame + 6, "\x02\x00\x5b\x00\x00\x01", 6);
    frame[12] = TEST_ETHERTYPE >> 8;
    frame[13] = TEST_ETHERTYPE & 0xff;
    memcpy(frame + 14, test_payload, sizeof test_payload);
    frame[14 + sizeof test_payload] = tag;
    return 60;
}

/* Returns the tag of a test frame, or 0 if 'p' is not one. */
static char
frame_tag(const uint8_t *p, size_t len)
{
    return (len >= 60 && p[12] == TEST_ETHERTYPE >> 8
            && p[13] == (TEST_ETHERTYPE & 0xff)
            && !memcmp(p + 14, test_payload, sizeof test_payload)
            ? (char) p[14 + sizeof test_payload] : 0);
}

/* A raw socket for the test frames on 'ifname', or -1. */
static int
open_raw(const char *ifname)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_protocol = htons(TEST_ETHERTYPE) };
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK,
                    htons(TEST_ETHERTYPE));

    sll.sll_ifindex = if_nametoindex(ifname);
    if (fd >= 0 && (!sll.sll_ifindex
                    || bind(fd, (struct sockaddr *) &sll, sizeof sll))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receives on 'port' and 'raw' until both have seen a test frame from the
 * peer ('p'), or 5 s. */
static int
receive_both(struct fs_port *port, int raw)
{
    bool port_rx = false, raw_rx = false;
    int64_t deadline = now_ms() + 5000;

    while (!port_rx || !raw_rx) {
        struct pollfd pfds[2] = { { .fd = fs_port_fd(port), .events = POLLIN },
                                  { .fd = raw, .events = POLLIN } };
        struct fs_pkt_ref pkts[FS_PORT_BURST];
        uint8_t buf[2048];
        unsigned int n;
        ssize_t len;

        MUST(now_ms() < deadline);
        MUST(poll(pfds, 2, 100) >= 0);
        n = fs_port_rx_burst(port, pkts, FS_PORT_BURST);
        for (unsigned int i = 0; i < n; i++) {
            port_rx |= frame_tag(pkts[i].data, pkts[i].caplen) == 'p';
        }
        fs_port_rx_release(port, n);
        while ((len = recv(raw, buf, sizeof buf, 0)) > 0) {
            raw_rx |= frame_tag(buf, len) == 'p';
        }
        MUST(len < 0 && errno == EAGAIN);
    }
    return 0;
}

static int
packet_child(void *ready_)
{
    struct fs_port_options po = FS_PORT_OPTIONS_INIT;
    struct tpacket_stats kstats;
    struct fs_port_stats stats;
    socklen_t len = sizeof kstats;
    struct fs_sandbox *sb;
    struct fs_pkt_ref out;
    struct fs_port *port;
    uint8_t frame[60];
    int raw, error;

    /* As the appliance does: drop, keeping CAP_NET_RAW; open; lock. */
    sb = enter(FS_SANDBOX_CAP(CAP_NET_RAW), FS_SANDBOX_DENY_KILL, false);
    po.ifname = iface;
    po.log = child_log;
    MUST(!fs_port_open(&po, &port));
    raw = open_raw(iface);
    MUST(raw >= 0);
    MUST(!fs_sandbox_lock(sb));
    MUST(write(*(int *) ready_, "r", 1) == 1);

    error = receive_both(port, raw);
    if (error) {
        return error;
    }
    out = (struct fs_pkt_ref) { .data = frame, .len = make_frame(frame, 'c') };
    MUST(fs_port_tx_burst(port, &out, 1) == 1);
    fs_port_get_stats(port, &stats);
    MUST(stats.rx_packets >= 1 && stats.tx_packets == 1);
    MUST(!getsockopt(raw, SOL_PACKET, PACKET_STATISTICS, &kstats, &len));
    MUST(kstats.tp_packets >= 1);
    fs_port_close(port);
    MUST(!close(raw));
    return check_locked_status(sb);
}

/* Sends test frames on 'peer' until the child 'pid' exits, and returns
 * its status; sets '*replied' if the child's frame came back. */
static int
drive_packet_child(pid_t pid, int ready, int fd, bool *replied)
{
    int64_t deadline = now_ms() + 10000;
    uint8_t frame[60], buf[2048];
    struct pollfd pfd = { .fd = ready, .events = POLLIN };
    int status;

    make_frame(frame, 'p');
    *replied = false;
    if (poll(&pfd, 1, 10000) != 1) {
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        ssize_t len;

        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
        }
        if (send(fd, frame, sizeof frame, 0) != sizeof frame) {
            perror("send");
        }
        while ((len = recv(fd, buf, sizeof buf, 0)) > 0) {
            *replied |= frame_tag(buf, len) == 'c';
        }
        usleep(20000);
    }
    /* The reply may be the last thing it did. */
    usleep(20000);
    for (ssize_t len; (len = recv(fd, buf, sizeof buf, 0)) > 0; ) {
        *replied |= frame_tag(buf, len) == 'c';
    }
    return status;
}

static void
test_packet(void)
{
    int fds[2], fd = open_raw(peer), status;
    bool replied;
    char buf[64];
    pid_t pid;

    CHECK(fd >= 0);
    CHECK(!pipe(fds));
    if (fd < 0) {
        return;
    }
    fflush(NULL);
    pid = fork();
    if (!pid) {
        close(fds[0]);
        _exit(packet_child(&fds[1]));
    }
    close(fds[1]);
    status = drive_packet_child(pid, fds[0], fd, &replied);
    close(fds[0]);
    close(fd);
    printf("  AF_PACKET on %s after locking: %s, reply %s\n", iface,
           describe(status, buf, sizeof buf), replied ? "seen" : "not seen");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(replied);
}

int
main(int argc, char *argv[])
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3) {
        iface = argv[1];
        peer = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [IFACE PEER]\n", argv[0]);
        return 2;
    }
    if (geteuid()) {
        printf("SKIP: needs root (it changes ids and capabilities)\n");
        return 77;
    }
    printf("sanitizer build: %s\n", FS_SANDBOX_SANITIZERS ? "yes" : "no");

    RUN_TEST(test_options);
    RUN_TEST(test_caps);
    RUN_TEST(test_allowed);
    RUN_TEST(test_forbidden);
    RUN_TEST(test_deny_eperm_and_extras);
#if FS_SANDBOX_SANITIZERS
    RUN_TEST(test_sanitizer_reports);
#else
    printf("test_sanitizer_reports not run: not a sanitizer build\n");
#endif
    if (iface) {
        RUN_TEST(test_packet);
    } else {
        printf("test_packet not run: no interfaces given "
               "(tests/sandbox.sh gives a veth pair)\n");
    }
    return test_exit_status();
}
