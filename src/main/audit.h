/* The audit log: every event of main_event() as one structured record, sent to the
 * journal with its fields (and so to syslog as a JSON text) and, with audit-log set,
 * appended to that file as one JSON line, each on disk before the next, by the writer
 * thread of audit_writer.c so that main's loop never waits for the disk. */
#ifndef SLUICE_AUDIT_H
#define SLUICE_AUDIT_H

#include <stdint.h>

struct main_ctx;
struct main_event;

/* Opens audit-log when configured and starts its writer (needs m->loop); 0 or -errno,
 * logged. */
int audit_start(struct main_ctx *m);
/* SIGHUP: the file was probably rotated; records after this go to a file of that name,
 * records before it to the old file. */
void audit_reopen(struct main_ctx *m);
/* Shutdown: waits until every accepted record is on disk, then stops the writer. */
void audit_stop(struct main_ctx *m);
/* Records that never reached the file (sluice_audit_dropped_total). */
uint64_t audit_dropped(const struct main_ctx *m);
/* The sink in events.c. */
void audit_event(struct main_ctx *m, const struct main_event *ev);

#endif
