/* The end of a session's TUN device, off main's critical path: a device whose session
 * ended (its counters read) is retired at once (down, and in this sluiced's group of
 * retired devices: tun.h), and the group is deleted in one request REAP_DELAY later, or
 * at once when REAP_BATCH are waiting. When 10,000 sessions end together, main's loop
 * waits for the kernel a few dozen times, not 10,000 times (about 20 ms each). */
#ifndef SLUICE_MAIN_TUN_REAP_H
#define SLUICE_MAIN_TUN_REAP_H

struct main_ctx;

/* Retires the device named name; deleted outright when it cannot be retired. 0, or a
 * negative errno (the device could be neither). */
int tun_reap_add(struct main_ctx *m, const char *name);
/* Deletes what is retired now (at shutdown). */
void tun_reap_flush(struct main_ctx *m);

#endif
