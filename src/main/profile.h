/* user-profile: the AnyConnect XML client profile. main reads the file (at start-up and
 * on every reload) and hands its bytes to each worker with MW_INIT, since a worker opens
 * no file once it runs; the worker names it in the login's success reply (its URI and
 * SHA-1) and serves it to clients whose session cookie sec accepts. */
#ifndef SLUICE_PROFILE_H
#define SLUICE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

/* The largest profile: it travels in every worker's MW_INIT (worker.h:
 * WORKER_MAIN_MAX_PAYLOAD) and stays in every worker's memory. Cisco's profiles of a
 * few servers take a few KiB. */
#define USER_PROFILE_MAX (16 * 1024)

struct main_profile {
	char *uri;  /* "/profiles/" + the file's name, percent-encoded */
	char *sha1; /* 40 lower-case hex digits, as ocserv writes it */
	uint8_t *data;
	size_t len;
};

/* Reads path: a regular file of 1 to USER_PROFILE_MAX bytes. The profile under ctx, or
 * NULL with err set ("PATH: why"). */
struct main_profile *main_profile_read(TALLOC_CTX *ctx, const char *path, char *err, size_t errlen);

struct main_ctx;
/* The profile of m->cfg in m->profile. At start-up (start) a file that cannot be read is
 * an error (-EIO, err set); on a reload it leaves the profile read before in place, with
 * a warning. An unset user-profile drops it. */
int main_profile_load(struct main_ctx *m, bool start, char *err, size_t errlen);

#endif
