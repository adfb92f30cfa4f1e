/* sluice-certs revoke, crl and list: the CA's record of what it signed. */
#include "config.h"

#include "tools/certs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *status_of(TALLOC_CTX *ctx, const struct certs_entry *e, time_t now)
{
	if (e->revoked)
		return talloc_asprintf(ctx, "revoked %s", certs_time_text(ctx, e->revoked_at));
	return e->expires <= now ? "expired" : "valid";
}

/* The state's entry of a certificate file, which the CA must have signed; a
 * certificate of this CA that the state does not list (its state was restored from an
 * older copy, say) is added as kind "other". */
static struct certs_entry *entry_of_file(TALLOC_CTX *ctx, struct certs_ca *ca, const char *path)
{
	gnutls_x509_crt_t *crts;
	struct certs_entry e = {.kind = CERTS_KIND_OTHER};
	struct certs_entry *found;
	unsigned n, status = 1;
	char cn[CERTS_NAME_MAX + 1];
	size_t cn_len = sizeof(cn);

	if (certs_load_crts(ctx, path, &crts, &n) < 0)
		return NULL;
	if (gnutls_x509_crt_verify(crts[0], &ca->crt, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS,
				   &status) < 0 ||
	    status != 0) {
		certs_fail("%s was not signed by this CA (%s)", path, ca->cert_path);
		return NULL;
	}
	if (certs_crt_serial(crts[0], e.serial, &e.serial_len) < 0) {
		certs_fail("%s: a serial number longer than %d bytes", path, CERTS_SERIAL_MAX);
		return NULL;
	}
	found = certs_state_find(ca->state, e.serial, e.serial_len);
	if (found != NULL)
		return found;
	e.issued = gnutls_x509_crt_get_activation_time(crts[0]);
	e.expires = gnutls_x509_crt_get_expiration_time(crts[0]);
	if (gnutls_x509_crt_get_dn_by_oid(crts[0], GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_len) <
		0 ||
	    !certs_name_ok(cn, cn_len))
		snprintf(cn, sizeof(cn), "(no usable common name)");
	e.name = cn;
	if (e.expires < e.issued)
		e.expires = e.issued;
	if (certs_state_add(ca->state, &e) < 0) {
		certs_fail("%s: cannot record it in %s", path, ca->state_path);
		return NULL;
	}
	certs_say("note: %s is not in %s; it is added", path, ca->state_path);
	return &ca->state->entries[ca->state->n - 1];
}

static struct certs_entry *entry_of_serial(struct certs_ca *ca, const char *text,
					   const uint8_t *serial, size_t len)
{
	struct certs_entry *e = certs_state_find(ca->state, serial, len);

	if (e == NULL)
		certs_fail("this CA signed no certificate with serial %s (see '" CERTS_PROG
			   " list')",
			   text);
	return e;
}

int certs_cmd_revoke(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	struct certs_ca *ca;
	struct certs_entry *e;
	char hex[2 * CERTS_SERIAL_MAX + 1];
	uint8_t serial[CERTS_SERIAL_MAX];
	size_t len = 0;

	if ((o->serial != NULL) == (o->argc == 1)) {
		certs_fail("revoke takes a certificate file or --serial, one of the two");
		return CERTS_EXIT_USAGE;
	}
	if (o->serial != NULL && certs_serial_parse(o->serial, serial, &len) < 0) {
		certs_fail("--serial '%s': hex digits, optionally in pairs separated by ':'",
			   o->serial);
		return CERTS_EXIT_USAGE;
	}
	if (certs_ca_open(ctx, o->dir, &ca) < 0)
		return CERTS_EXIT_ERROR;
	e = o->serial ? entry_of_serial(ca, o->serial, serial, len)
		      : entry_of_file(ctx, ca, o->argv[0]);
	if (e == NULL)
		return CERTS_EXIT_ERROR;
	certs_serial_hex(e->serial, e->serial_len, hex);
	if (e->kind == CERTS_KIND_CA) {
		certs_fail("serial %s is the CA's own certificate; to replace the CA, run init-ca "
			   "--force",
			   hex);
		return CERTS_EXIT_ERROR;
	}
	/* Revoking again changes nothing and is no error: the certificate is revoked. */
	if (e->revoked) {
		certs_say("serial %s (%s %s) was revoked on %s already; nothing changed", hex,
			  certs_kind_name(e->kind), e->name, certs_time_text(ctx, e->revoked_at));
		return CERTS_EXIT_OK;
	}
	e->revoked = true;
	e->revoked_at = time(NULL);
	certs_say("revoked serial %s (%s %s)", hex, certs_kind_name(e->kind), e->name);
	/* The state (with the revocation) is saved before the CRL is written. */
	if (certs_ca_write_crl(ctx, ca, o->days >= 0 ? o->days : CERTS_CRL_DAYS) < 0) {
		certs_fail("the revocation is recorded in %s but the CRL is not up to date: run "
			   "'" CERTS_PROG " crl'",
			   ca->state_path);
		return CERTS_EXIT_ERROR;
	}
	certs_say("reload sluiced (SIGHUP) so that it reads the new CRL");
	return CERTS_EXIT_OK;
}

int certs_cmd_crl(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	struct certs_ca *ca;

	if (certs_ca_open(ctx, o->dir, &ca) < 0 ||
	    certs_ca_write_crl(ctx, ca, o->days >= 0 ? o->days : CERTS_CRL_DAYS) < 0)
		return CERTS_EXIT_ERROR;
	return CERTS_EXIT_OK;
}

int certs_cmd_list(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	struct certs_ca *ca = certs_ca_paths(ctx, o->dir);
	time_t now = time(NULL);

	if (ca == NULL || certs_ca_read_state(ca) < 0)
		return CERTS_EXIT_ERROR;
	certs_say("%-32s  %-6s  %-23s  %-32s  %s", "SERIAL", "KIND", "EXPIRES", "STATUS", "NAME");
	for (size_t i = 0; i < ca->state->n; i++) {
		const struct certs_entry *e = &ca->state->entries[i];
		char hex[2 * CERTS_SERIAL_MAX + 1];

		certs_serial_hex(e->serial, e->serial_len, hex);
		certs_say("%-32s  %-6s  %-23s  %-32s  %s", hex, certs_kind_name(e->kind),
			  certs_time_text(ctx, e->expires), status_of(ctx, e, now), e->name);
	}
	return CERTS_EXIT_OK;
}
