/* The audit file's writer thread. main must never block, but every audit record must be
 * on disk before the next one is written (fdatasync per record), and a disk can stall
 * for seconds (a full journal, a frozen filesystem, slow network storage). So main only
 * hands finished lines to a bounded in-memory queue; one thread appends and syncs them in
 * order. Reopening after a rotation goes through the same queue, so every record queued
 * before the request lands in the old file and every later one in the new file.
 *
 * The thread touches nothing of main's: it logs nothing itself, it keeps its errors for
 * main to fetch (audit_writer_take_error()) and wakes main's loop through an ev_async. */
#ifndef SLUICE_AUDIT_WRITER_H
#define SLUICE_AUDIT_WRITER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct audit_writer;

/* Opens path (appending, mode 0600) and starts the thread; NULL with *err = -errno.
 * max: records the queue may hold. wake (may be NULL) is sent, from the thread, when
 * the queue has emptied after a refused record, or when a write or open failed. */
struct audit_writer *audit_writer_start(const char *path, unsigned max, struct ev_loop *loop,
					ev_async *wake, int *err);
/* Queues one line (without its newline); never blocks unless wait is set (shutdown).
 * -ENOSPC: the queue is full and the record was not taken; -ENOMEM. */
int audit_writer_put(struct audit_writer *aw, const char *line, bool wait);
/* Queues a reopen of the file's path (logrotate moved the file). Never refused for a
 * full queue (a reopen right behind another reopen is the same reopen); 0 or -ENOMEM. */
int audit_writer_reopen(struct audit_writer *aw);
/* Records the thread could not write since the last call (write, sync or open errors),
 * and the last such error (-errno, 0: none) with the step that failed. */
uint64_t audit_writer_take_error(struct audit_writer *aw, int *err, const char **what);
/* Writes everything queued, stops the thread and frees the writer; returns what
 * audit_writer_take_error() would. Blocks for as long as the disk does: only for
 * shutdown. */
uint64_t audit_writer_stop(struct audit_writer *aw, int *err, const char **what);

#endif
