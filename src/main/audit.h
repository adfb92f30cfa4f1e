/* The audit log: every event of main_event() as one structured record, sent to the
 * journal with its fields (and so to syslog as a JSON text) and, with audit-log set,
 * appended to that file as one JSON line that is on disk before the next event. */
#ifndef SLUICE_AUDIT_H
#define SLUICE_AUDIT_H

struct main_ctx;
struct main_event;

/* Opens audit-log when configured; 0 or -errno. */
int audit_open(struct main_ctx *m);
/* SIGHUP: the file was probably rotated; new records go to a file of that name. */
void audit_reopen(struct main_ctx *m);
/* The sink in events.c. */
void audit_event(struct main_ctx *m, const struct main_event *ev);

#endif
