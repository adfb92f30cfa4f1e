/* sluice-certs: a small certificate authority for a sluice server and its users, and
 * checks of certificates, on GnuTLS. One file per group of commands (certs_issue.c:
 * init-ca, server; certs_client.c: client; certs_revoke.c: revoke, crl, list;
 * certs_inspect.c: show, check), the shared pieces in certs_util.c and certs_ca.c (the
 * CA directory) and the CA's state file in certs_state.c; sluice-certs.c holds the
 * command table and the options. */
#ifndef SLUICE_CERTS_H
#define SLUICE_CERTS_H

#include "tools/certs_state.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>
#include <time.h>

#define CERTS_PROG        "sluice-certs"
#define CERTS_DEFAULT_DIR "/etc/sluice/pki"

/* The files in the CA directory (sluice-certs(8), FILES). */
#define CERTS_CA_CERT  "ca-cert.pem"
#define CERTS_CA_KEY   "ca-key.pem"
#define CERTS_CA_STATE "ca-state"
#define CERTS_CA_LOCK  "ca.lock"
#define CERTS_CRL      "crl.pem"
#define CERTS_CLIENTS  "clients"

/* Certificates start this long before they are made, for clients whose clock is
 * behind. */
#define CERTS_BACKDATE 600

/* The CRL's next update, in days after it is written, unless --days says otherwise. */
#define CERTS_CRL_DAYS 365

/* Largest certificate, key, CRL or PKCS#12 file read. */
#define CERTS_MAX_FILE (1024 * 1024)

enum { CERTS_EXIT_OK = 0, CERTS_EXIT_ERROR = 1, CERTS_EXIT_USAGE = 2 };

enum certs_key_type { CERTS_KEY_ECDSA, CERTS_KEY_RSA };

/* The options of every command; a command reads those it takes (the table in
 * sluice-certs.c says which). */
struct certs_opts {
	const char *dir;
	bool force;
	long days; /* -1: the command's default */
	enum certs_key_type key_type;
	unsigned bits; /* RSA only; 0: the default */
	const char *cn;
	const char *out;
	bool uid;
	const char *email;
	bool no_p12;
	bool p12_legacy;
	const char *serial;
	const char *ca_file;
	const char *crl_file;
	const char **names;
	size_t n_names;
	long warn_days;
	int argc; /* the operands after the options */
	char **argv;
};

/* --- messages: errors on stderr after "sluice-certs: ", results on stdout ------------ */
void certs_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void certs_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- files ---------------------------------------------------------------------------- */
char *certs_path(TALLOC_CTX *ctx, const char *dir, const char *name);
/* Reads a regular file of at most max bytes (NUL-terminated in *data); a message on
 * failure. 0 or a negative errno. */
int certs_read_file(TALLOC_CTX *ctx, const char *path, size_t max, gnutls_datum_t *data);
/* Writes a file atomically with mode (whatever the umask); with no_clobber an existing
 * file is an error that names --force. */
int certs_write(const char *path, const void *data, size_t len, mode_t mode, bool no_clobber);
/* Fails, naming each, when any of paths (NULL-terminated) exists: before a key is made,
 * so that nothing is generated in vain. */
int certs_refuse_existing(const char *const *paths);
/* mkdir with mode, whatever the umask; an existing directory is left as it is. */
int certs_mkdir(const char *path, mode_t mode);

/* --- GnuTLS objects freed with a talloc context -------------------------------------- */
gnutls_x509_crt_t certs_crt_new(TALLOC_CTX *ctx);
gnutls_x509_privkey_t certs_privkey_new(TALLOC_CTX *ctx);

/* Certificates of a PEM file (a chain) or of a DER file (one). 0 with *n >= 1, or a
 * negative errno with a message. */
int certs_load_crts(TALLOC_CTX *ctx, const char *path, gnutls_x509_crt_t **crts, unsigned *n);
int certs_load_privkey(TALLOC_CTX *ctx, const char *path, gnutls_x509_privkey_t *key);

/* --- keys and certificates ------------------------------------------------------------ */
int certs_key_generate(TALLOC_CTX *ctx, enum certs_key_type type, unsigned bits,
		       gnutls_x509_privkey_t *key);
/* PKCS#8 PEM, unencrypted; the caller wipes and frees it (gnutls_free). */
int certs_key_pem(gnutls_x509_privkey_t key, gnutls_datum_t *pem);
/* "ECDSA P-256", "RSA 3072-bit" */
const char *certs_key_describe(TALLOC_CTX *ctx, gnutls_pk_algorithm_t pk, unsigned bits,
			       gnutls_ecc_curve_t curve);
const char *certs_crt_key_describe(TALLOC_CTX *ctx, gnutls_x509_crt_t crt);
/* "pin-sha256:BASE64" of the certificate's public key, as openconnect --servercert takes. */
char *certs_crt_pin(TALLOC_CTX *ctx, gnutls_x509_crt_t crt);
char *certs_privkey_pin(TALLOC_CTX *ctx, gnutls_x509_privkey_t key);
/* The subject or issuer DN as RFC 4514 text. */
char *certs_crt_dn(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, bool issuer);
/* The serial in lower-case hex; 0 or -EINVAL (longer than CERTS_SERIAL_MAX). */
int certs_crt_serial(gnutls_x509_crt_t crt, uint8_t serial[CERTS_SERIAL_MAX], size_t *len);
/* "DNS:vpn.example.com, IP:198.18.0.1, email:a@b" or "" */
char *certs_crt_names(TALLOC_CTX *ctx, gnutls_x509_crt_t crt);
/* "2026-11-22 06:14:00 UTC" */
const char *certs_time_text(TALLOC_CTX *ctx, time_t t);

/* --- the CA directory ----------------------------------------------------------------- */
struct certs_ca {
	const char *dir;
	const char *cert_path, *key_path, *state_path, *crl_path;
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	struct certs_state *state;
};

/* Paths only, nothing read. */
struct certs_ca *certs_ca_paths(TALLOC_CTX *ctx, const char *dir);
/* Locks the directory and reads the CA's certificate, key and state; checks that key and
 * certificate match and that the CA has not expired. A message on failure. */
int certs_ca_open(TALLOC_CTX *ctx, const char *dir, struct certs_ca **ca);
int certs_ca_lock(const struct certs_ca *ca);
/* Reads and parses the state file alone (no lock: it is replaced atomically). */
int certs_ca_read_state(struct certs_ca *ca);
int certs_ca_save_state(struct certs_ca *ca);
/* Signs and writes the CRL of every revoked certificate in the state, valid for days;
 * the state's CRL number goes up by one (the caller saves the state first). */
int certs_ca_write_crl(TALLOC_CTX *ctx, struct certs_ca *ca, long days);

/* A fresh random serial not yet in the state. */
int certs_new_serial(const struct certs_state *st, uint8_t serial[CERTS_SERIAL_MAX], size_t *len);

/* --- commands ------------------------------------------------------------------------- */
int certs_cmd_init_ca(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_server(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_client(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_revoke(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_crl(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_list(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_show(TALLOC_CTX *ctx, const struct certs_opts *o);
int certs_cmd_check(TALLOC_CTX *ctx, const struct certs_opts *o);

#endif
