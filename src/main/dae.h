/* RADIUS Disconnect-Request and CoA-Request (radius-dae-listen), applied by main. */
#ifndef SLUICE_MAIN_DAE_H
#define SLUICE_MAIN_DAE_H

#include "main/main.h"

struct MsDae;

/* Ends or changes the tunnels the request names; answers sec with how many. */
void main_dae_on_request(struct main_ctx *m, const struct MsDae *d);

#endif
