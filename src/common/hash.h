/* uthash and utlist (Debian: uthash-dev) as every sluice process uses them: include this,
 * never <uthash.h> itself, so that every table is built with the same settings.
 *
 * The keys sluice indexes are chosen by the server (worker ids, pids, random DTLS ids,
 * hashes of random cookies) or belong to users who logged in, so a client cannot pick
 * keys that collide in uthash's unseeded hash function. */
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

/* A daemon that serves thousands of clients does not exit because one add found no
 * memory: the element is left out of the table, and the caller, which looks it up again
 * after adding it, reports -ENOMEM for that one element. */
#define HASH_NONFATAL_OOM 1

#include <uthash.h>
#include <utlist.h>

#endif
