/* What sluice-certs' commands that make certificates share (certs_issue.c): init-ca and
 * server there, client in certs_client.c. */
#ifndef SLUICE_CERTS_ISSUE_H
#define SLUICE_CERTS_ISSUE_H

#include "tools/certs.h"

struct ip_name {
	uint8_t addr[16];
	size_t len; /* 4 or 16 */
};

/* One certificate to make. */
struct profile {
	enum certs_kind kind;
	const char *cn;
	bool uid;
	const char *email;
	const char *const *dns;
	size_t n_dns;
	const struct ip_name *ips;
	size_t n_ips;
	const char *purpose; /* extended key usage, NULL for the CA */
};

/* The CA, the files it is to write (none of them there, or --force) and a new serial:
 * what server and client start with. */
struct issue {
	struct certs_ca *ca;
	gnutls_x509_privkey_t key;
	struct certs_entry e;
};

/* Opens the CA (locked), refuses the files in paths (NULL-terminated) unless --force,
 * and draws a serial; the validity is --days or default_days, cut to the CA's own.
 * 0, or -1 after a message. */
int certs_issue_start(TALLOC_CTX *ctx, const struct certs_opts *o, const char *const *paths,
		      long default_days, struct issue *is);
/* Generates is->key as --key-type and --bits say; what names it in the progress line. */
int certs_issue_key(TALLOC_CTX *ctx, const struct certs_opts *o, const char *what,
		    gnutls_x509_privkey_t *key);
/* Signs the certificate of p, records it in the CA's state and writes key and
 * certificate. */
int certs_issue_finish(TALLOC_CTX *ctx, const struct certs_opts *o, const struct profile *p,
		       struct issue *is, const char *key_path, const char *cert_path,
		       gnutls_x509_crt_t *crt);

/* A DNS name: ASCII letters, digits, '-' and '.', the first label may be "*". */
bool certs_dns_name_ok(const char *s);
/* A name from the command line that becomes part of a file name. */
bool certs_file_name_ok(const char *s);

#endif
