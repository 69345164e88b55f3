/*
 * A file saver that keeps the disk out of the main loop.
 *
 * flowsteerd saves its flow state every second while flows change.  A
 * save ends with fsync(), and on a busy disk (a neighbour's build, a
 * backup, a failing device) fsync() can take seconds: in the main loop
 * that would stall steering past the watchdog, and a slow disk would put
 * every steered flow into the fail mode.  So the main loop only builds
 * the file's contents in memory and hands them to fs_saver_put(); a
 * thread of its own writes them to PATH.tmp, fsyncs it and renames it
 * over PATH, so that a crash leaves the old file or the new one, whole.
 *
 * The newest contents win: contents handed over while an older save is
 * still being written wait for it, and replace any contents that were
 * waiting with them (counted as superseded, never written).  Each save's
 * result comes back to the main loop through fs_saver_run(), which wakes
 * through fs_saver_wait().
 *
 * Test hook: FLOWSTEER_TEST_SAVE_DELAY_MS=N in the environment makes every
 * save wait N ms (60000 at most) before its fsync(), as a slow disk does
 * (tests/enforce-restart.sh).
 */
#ifndef FS_SAVER_H
#define FS_SAVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

struct fs_saver_stats {
    uint64_t n_saves;           /* Written, fsynced and renamed. */
    uint64_t n_errors;          /* Failed: the old file stays. */
    uint64_t n_superseded;      /* Replaced by newer contents unwritten. */
    size_t last_records;        /* The caller's count, of the last save. */
    long long int last_ms;      /* How long the last save took. */
    long long int max_ms;       /* The longest save. */
};

/* How long an exit waits for the last save (fs_saver_flush(),
 * fs_saver_destroy()) before it gives up on a disk that hangs. */
#define FS_SAVER_EXIT_WAIT_MS 5000

struct fs_saver *fs_saver_create(const char *path);
void fs_saver_destroy(struct fs_saver *);

/* Hands 'contents' over (it is left empty) to be saved, with 'records', a
 * count for fs_saver_stats. */
void fs_saver_put(struct fs_saver *, struct ds *contents, size_t records);

/* Collects the results of the saves that ended: returns the errno of the
 * last failed one since the previous call, or 0. */
int fs_saver_run(struct fs_saver *);
void fs_saver_wait(struct fs_saver *);

/* Blocks until the contents handed over are on disk, or at most
 * FS_SAVER_EXIT_WAIT_MS; returns false if they are not. */
bool fs_saver_flush(struct fs_saver *);

void fs_saver_get_stats(struct fs_saver *, struct fs_saver_stats *);

#endif /* fs-saver.h */
