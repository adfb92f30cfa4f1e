/* Configuration reload (SIGHUP, and the control tool's reload command): the file is
 * read and checked in full; an invalid one leaves the running configuration alone.
 * Keys the schema does not mark CONFIG_RELOAD keep their running value (with a warning
 * naming each); the others apply to new connections, and no session is dropped. The
 * certificate is re-read too: sec loads the key, checks that it matches, and only then
 * does main hand the new certificate to new workers. */
#ifndef SLUICE_RELOAD_H
#define SLUICE_RELOAD_H

#include <stddef.h>

struct main_ctx;
struct sluice_config;

/* 0, or a negative errno with the reason in err (also logged as MEV_RELOAD). */
int main_reload(struct main_ctx *m, char *err, size_t errlen);
/* config_check_user_files' report for a running server: a warning per bad file. */
void main_warn_user_file(void *data, const char *problem);
struct MsReloadResult;
/* sec's answer about the new key (MS_RELOAD_RESULT). */
void main_reload_key_result(struct main_ctx *m, const struct MsReloadResult *r);

/* The CA of client certificates that workers name in their handshake's certificate
 * request (c's ca-cert, when certificate authentication is on). 0, or a negative errno
 * with err set. */
int main_load_client_ca(struct main_ctx *m, const struct sluice_config *c, char *err,
			size_t errlen);

/* ocsp-response of c, checked against cert_pem (the certificate it is for): for workers
 * to staple. A stale response or one that says the certificate is revoked is used with a
 * warning. 0, or a negative errno with err set (unreadable, malformed, for another
 * certificate). */
int main_load_ocsp(struct main_ctx *m, const struct sluice_config *c, const char *cert_pem,
		   size_t cert_len, char *err, size_t errlen);

#endif
