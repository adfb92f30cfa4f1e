/* iroutes: networks behind a client (site-to-site), set in per-user and per-group
 * files. main routes them to the session's TUN device while the tunnel is up, itself
 * or through route-add-cmd / route-del-cmd. */
#ifndef SLUICE_IROUTE_H
#define SLUICE_IROUTE_H

#include <stdbool.h>

struct main_ctx;
struct main_worker;

/* Adds (add) or removes the routes of w's iroutes through its device. Failures are
 * logged; the tunnel still comes up (the routes may exist already, e.g. for a second
 * session of the same user). Routes that main added itself go with the device, so
 * removing only runs route-del-cmd. */
void iroutes_apply(struct main_ctx *m, const struct main_worker *w, bool add);

#endif
