#include <config.h>
#include "fs-saver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fs-sandbox.h"
#include "latch.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_saver);

struct fs_saver {
    char *path;
    char *tmp;                  /* path.tmp */
    pthread_t thread;
    bool started;
    unsigned int test_delay_ms; /* FLOWSTEER_TEST_SAVE_DELAY_MS. */
    struct latch done;          /* Set by the thread when a save ended. */

    /* Guarded by 'mutex'. */
    pthread_mutex_t mutex;
    pthread_cond_t cond;        /* Contents to write, or exit. */
    pthread_cond_t idle;        /* Nothing waiting, nothing being written. */
    struct ds pending;
    size_t pending_records;
    bool has_pending;
    bool writing;
    bool exiting;
    bool exited;                /* The thread is past its last save. */
    int last_error;             /* Since fs_saver_run() last took it. */
    struct fs_saver_stats stats;
};

/* Writes 'n' bytes at 'data' to 'fd'.  Returns 0 or an errno. */
static int
write_all(int fd, const char *data, size_t n)
{
    while (n) {
        ssize_t r = write(fd, data, n);

        if (r < 0 && errno != EINTR) {
            return errno;
        } else if (r > 0) {
            data += r;
            n -= r;
        }
    }
    return 0;
}

/* Writes 'contents' to s->tmp, fsyncs it, renames it over s->path.
 * Returns 0 or an errno (the old file stays). */
static int
save_file(const struct fs_saver *s, const struct ds *contents)
{
    int fd, error;

    fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
              0600);
    error = fd < 0 ? errno : write_all(fd, contents->string, contents->length);
    if (s->test_delay_ms) {
        /* The test hook: a disk whose fsync() takes this long. */
        xnanosleep_no_quiesce(s->test_delay_ms * 1000000ULL);
    }
    if (!error && fsync(fd)) {
        error = errno;
    }
    if (fd >= 0 && close(fd) && !error) {
        error = errno;
    }
    if (!error && rename(s->tmp, s->path)) {
        error = errno;
    }
    if (error) {
        unlink(s->tmp);
    }
    return error;
}

static void *
saver_main(void *s_)
{
    struct fs_saver *s = s_;
    struct ds contents = DS_EMPTY_INITIALIZER;

    pthread_mutex_lock(&s->mutex);
    for (;;) {
        while (!s->has_pending && !s->exiting) {
            pthread_cond_wait(&s->cond, &s->mutex);
        }
        if (!s->has_pending) {
            break;
        }
        ds_swap(&contents, &s->pending);
        size_t records = s->pending_records;
        s->has_pending = false;
        s->writing = true;
        pthread_mutex_unlock(&s->mutex);

        long long int start = time_msec();
        int error = save_file(s, &contents);
        long long int took = time_msec() - start;
        ds_clear(&contents);

        pthread_mutex_lock(&s->mutex);
        s->writing = false;
        s->stats.last_ms = took;
        s->stats.max_ms = MAX(s->stats.max_ms, took);
        if (error) {
            s->stats.n_errors++;
            s->last_error = error;
        } else {
            s->stats.n_saves++;
            s->stats.last_records = records;
        }
        if (!s->has_pending) {
            pthread_cond_broadcast(&s->idle);
        }
        latch_set(&s->done);
    }
    s->exited = true;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mutex);
    ds_destroy(&contents);
    return NULL;
}

struct fs_saver *
fs_saver_create(const char *path)
{
    struct fs_saver *s = xzalloc(sizeof *s);

    s->path = xstrdup(path);
    s->tmp = xasprintf("%s.tmp", path);
    const char *delay = getenv("FLOWSTEER_TEST_SAVE_DELAY_MS");
    s->test_delay_ms = delay ? MIN(strtoul(delay, NULL, 10), 60000) : 0;
    latch_init(&s->done);
    pthread_mutex_init(&s->mutex, NULL);
    pthread_cond_init(&s->cond, NULL);
    /* 'idle' is waited on with a deadline (at exit), on the monotonic
     * clock. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->idle, &attr);
    pthread_condattr_destroy(&attr);
    ds_init(&s->pending);
    return s;
}

/* The thread starts with the first save, with every signal blocked but
 * those that report a fault of its own: OVS's fatal-signal handling stays
 * with the main thread. */
static void
saver_start(struct fs_saver *s)
{
    int error = fs_sandbox_thread_create(&s->thread, saver_main, s);

    if (error) {
        ovs_abort(error, "cannot start the thread that saves %s", s->path);
    }
    s->started = true;
}

void
fs_saver_put(struct fs_saver *s, struct ds *contents, size_t records)
{
    if (!s->started) {
        saver_start(s);
    }
    pthread_mutex_lock(&s->mutex);
    if (s->has_pending) {
        s->stats.n_superseded++;
    }
    ds_swap(&s->pending, contents);
    ds_clear(contents);
    s->pending_records = records;
    s->has_pending = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mutex);
}

int
fs_saver_run(struct fs_saver *s)
{
    int error;

    latch_poll(&s->done);
    pthread_mutex_lock(&s->mutex);
    error = s->last_error;
    s->last_error = 0;
    pthread_mutex_unlock(&s->mutex);
    return error;
}

void
fs_saver_wait(struct fs_saver *s)
{
    latch_wait(&s->done);
}

/* Waits, with s->mutex held, until 'done' says so or FS_SAVER_EXIT_WAIT_MS
 * have passed.  Returns true if 'done' said so. */
static bool
wait_idle(struct fs_saver *s, bool (*done)(const struct fs_saver *))
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += FS_SAVER_EXIT_WAIT_MS / 1000;
    deadline.tv_nsec += (FS_SAVER_EXIT_WAIT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (!done(s)) {
        if (pthread_cond_timedwait(&s->idle, &s->mutex, &deadline)
            == ETIMEDOUT) {
            return done(s);
        }
    }
    return true;
}

static bool
is_idle(const struct fs_saver *s)
{
    return !s->has_pending && !s->writing;
}

static bool
has_exited(const struct fs_saver *s)
{
    return s->exited;
}

bool
fs_saver_flush(struct fs_saver *s)
{
    bool ok;

    if (!s->started) {
        return true;
    }
    pthread_mutex_lock(&s->mutex);
    ok = wait_idle(s, is_idle);
    pthread_mutex_unlock(&s->mutex);
    return ok;
}

void
fs_saver_get_stats(struct fs_saver *s, struct fs_saver_stats *stats)
{
    pthread_mutex_lock(&s->mutex);
    *stats = s->stats;
    pthread_mutex_unlock(&s->mutex);
}

/* Writes what was handed over, then stops the thread; or, if that takes
 * longer than FS_SAVER_EXIT_WAIT_MS (a disk that hangs), gives up: the
 * thread is left to end with the process, the file keeps the last save
 * that ended (a rename is all or nothing), and this is logged. */
void
fs_saver_destroy(struct fs_saver *s)
{
    if (!s) {
        return;
    }
    if (s->started) {
        bool exited;

        pthread_mutex_lock(&s->mutex);
        s->exiting = true;
        pthread_cond_signal(&s->cond);
        exited = wait_idle(s, has_exited);
        pthread_mutex_unlock(&s->mutex);
        if (!exited) {
            VLOG_WARN("%s: the last save did not end within %d ms (does the "
                      "disk hang?): exiting without it; the file holds the "
                      "last save that ended", s->path,
                      FS_SAVER_EXIT_WAIT_MS);
            pthread_detach(s->thread);
            return;             /* The thread still uses 's'. */
        }
        pthread_join(s->thread, NULL);
    }
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mutex);
    latch_destroy(&s->done);
    ds_destroy(&s->pending);
    free(s->tmp);
    free(s->path);
    free(s);
}
