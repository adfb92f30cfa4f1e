#include "config.h"

#include "main/reload.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/tls_pin.h"
#include "ipc/main_sec.pb-c.h"
#include "main/events.h"
#include "main/groups.h"
#include "main/kernel_limits.h"
#include "main/listeners.h"
#include "main/main.h"
#include "main/profile.h"
#include "main/sec_channel.h"
#include "main/server_cert.h"

void main_warn_user_file(void *data, const char *problem)
{
	log_warn("%s (the logins that need this file are refused)", problem);
}

static void reload_event(struct main_ctx *m, bool ok, const char *reason)
{
	struct main_event ev = {.kind = MEV_RELOAD, .ok = ok, .reason = reason};

	main_event(m, &ev);
}

/* The configuration to run: cur's value for every key that cannot change at runtime,
 * next's for the others. NULL with err set on failure. */
static struct sluice_config *merge(struct main_ctx *m, const struct sluice_config *next, char *err,
				   size_t errlen)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *text = talloc_strdup(tmp, "");
	struct sluice_config *merged = NULL;

	for (size_t i = 0; text && i < config_n_keys; i++) {
		const struct config_key *key = &config_keys[i];
		char *now = config_key_text(tmp, m->cfg, key),
		     *then = config_key_text(tmp, next, key);

		if (!now || !then) {
			text = NULL;
			break;
		}
		if (!(key->flags & CONFIG_RELOAD) && strcmp(now, then) != 0)
			log_warn("reload: key '%s' cannot change at runtime; keeping the running "
				 "value until a restart",
				 key->name);
		text = talloc_strdup_append(text, key->flags & CONFIG_RELOAD ? then : now);
	}
	if (!text)
		snprintf(err, errlen, "out of memory");
	else
		merged = config_load_string(m, text, next->file, err, errlen);
	if (merged && config_check_system(merged, err, errlen) < 0) {
		talloc_free(merged);
		merged = NULL;
	}
	talloc_free(tmp);
	return merged;
}

/* The new server-cert into pending_cert, or none when it is in a token: then sec reads it
 * and main takes it from sec's answer to the reload. */
static int read_cert(struct main_ctx *m, const char *path, char *err, size_t errlen)
{
	gnutls_datum_t pem;
	int ret;

	TALLOC_FREE(m->pending_cert);
	m->pending_cert_len = 0;
	if (config_in_token(path))
		return 0;
	ret = gnutls_load_file(path, &pem);
	if (ret < 0) {
		snprintf(err, errlen, "server-cert %s: %s", path, gnutls_strerror(ret));
		return -EIO;
	}
	m->pending_cert = talloc_memdup(m, pem.data, pem.size);
	m->pending_cert_len = pem.size;
	gnutls_free(pem.data);
	if (tls_pin_cert_pem(m->pending_cert, m->pending_cert_len, m->pending_pin) < 0) {
		snprintf(err, errlen, "server-cert %s: no certificate in the file", path);
		return -EINVAL;
	}
	main_server_cert_check(m->pending_cert, m->pending_cert_len, m->cfg);
	return 0;
}

int main_load_client_ca(struct main_ctx *m, const struct sluice_config *c, char *err,
			size_t errlen)
{
	gnutls_datum_t pem;
	int ret;

	if (!((c->auth_required | c->auth_alternatives) & CONFIG_AUTH_CERT)) {
		talloc_free(m->client_ca_pem);
		m->client_ca_pem = NULL;
		m->client_ca_pem_len = 0;
		return 0;
	}
	ret = gnutls_load_file(c->ca_cert, &pem);
	if (ret < 0) {
		snprintf(err, errlen, "ca-cert %s: %s", c->ca_cert, gnutls_strerror(ret));
		return -EIO;
	}
	talloc_free(m->client_ca_pem);
	m->client_ca_pem = talloc_memdup(m, pem.data, pem.size);
	m->client_ca_pem_len = pem.size;
	gnutls_free(pem.data);
	return m->client_ca_pem ? 0 : -ENOMEM;
}

/* Whether resp (DER) is an OCSP response for the first certificate of cert_pem, and, when
 * it is, a warning if it is stale or says the certificate is revoked. 0, or -EINVAL with
 * err set. */
static int check_ocsp(const gnutls_datum_t *resp, const char *cert_pem, size_t cert_len,
		      const char *path, char *err, size_t errlen)
{
	gnutls_ocsp_resp_t r = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = {(unsigned char *)cert_pem, (unsigned)cert_len};
	unsigned status;
	time_t this_update, next_update, revoked;
	int ret = -EINVAL;

	if (gnutls_ocsp_resp_init(&r) < 0 || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(err, errlen, "ocsp-response %s: out of memory", path);
		goto out;
	}
	if (gnutls_ocsp_resp_import(r, resp) < 0 ||
	    gnutls_ocsp_resp_get_single(r, 0, NULL, NULL, NULL, NULL, &status, &this_update,
					&next_update, &revoked, NULL) < 0) {
		snprintf(err, errlen, "ocsp-response %s: not a DER OCSP response", path);
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_ocsp_resp_check_crt(r, 0, crt) < 0) {
		snprintf(err, errlen, "ocsp-response %s: not a response for server-cert", path);
		goto out;
	}
	if (status == GNUTLS_OCSP_CERT_REVOKED)
		log_warn("ocsp-response %s says server-cert is revoked; clients that check it "
			 "will refuse the server",
			 path);
	if (next_update != (time_t)-1 && next_update < time(NULL))
		/* GnuTLS does not staple a response past its next update. */
		log_warn("ocsp-response %s is stale (its next update was due %lld s ago) and is "
			 "not stapled; fetch a new one and reload",
			 path, (long long)(time(NULL) - next_update));
	ret = 0;
out:
	if (r)
		gnutls_ocsp_resp_deinit(r);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

int main_load_ocsp(struct main_ctx *m, const struct sluice_config *c, const char *cert_pem,
		   size_t cert_len, char *err, size_t errlen)
{
	gnutls_datum_t der;
	int ret;

	if (!c->ocsp_response) {
		talloc_free(m->ocsp_der);
		m->ocsp_der = NULL;
		m->ocsp_der_len = 0;
		return 0;
	}
	ret = gnutls_load_file(c->ocsp_response, &der);
	if (ret < 0) {
		snprintf(err, errlen, "ocsp-response %s: %s", c->ocsp_response, gnutls_strerror(ret));
		return -EIO;
	}
	ret = check_ocsp(&der, cert_pem, cert_len, c->ocsp_response, err, errlen);
	if (ret == 0) {
		talloc_free(m->ocsp_der);
		m->ocsp_der = talloc_memdup(m, der.data, der.size);
		m->ocsp_der_len = der.size;
		ret = m->ocsp_der ? 0 : -ENOMEM;
	}
	gnutls_free(der.data);
	return ret;
}

/* sec loads the key under a new generation; the certificate follows its answer. */
static void send_reload(struct main_ctx *m)
{
	m->reload_gen = m->cert_gen + 1;
	sec_reload(m);
}

int main_reload(struct main_ctx *m, char *err, size_t errlen)
{
	struct sluice_config *next, *merged;
	int ret = -EINVAL;

	log_notice("reloading the configuration from %s",
		   m->config_path ? m->config_path : "(built-in)");
	if (m->reload_gen) {
		/* sec has not answered about the previous key yet: one at a time. */
		snprintf(err, errlen, "the previous reload is still waiting for sec");
		reload_event(m, false, err);
		return -EBUSY;
	}
	next = m->config_path ? config_load(m, m->config_path, err, errlen)
			      : config_builtin(m, m->cfg->state_dir, err, errlen);
	if (next && config_check_system(next, err, errlen) == 0) {
		for (size_t i = 0; i < next->n_warnings; i++)
			log_warn("%s", next->warnings[i]);
		merged = merge(m, next, err, errlen);
		if (merged && read_cert(m, merged->server_cert, err, errlen) == 0 &&
		    main_load_client_ca(m, merged, err, errlen) == 0 &&
		    /* A token's certificate is checked against the one in use. */
		    main_load_ocsp(m, merged, m->pending_cert ? m->pending_cert : m->cert_pem,
				   m->pending_cert ? m->pending_cert_len : m->cert_pem_len, err,
				   errlen) == 0) {
			talloc_free(m->cfg);
			m->cfg = merged;
			if (!m->debug)
				log_set_level(m->cfg->log_level);
			send_reload(m);
			/* Neither fails the reload: each keeps what it had, and says so. */
			main_profile_load(m, false, err, errlen);
			main_auto_groups_load(m);
			config_check_user_files(m->cfg, main_warn_user_file, NULL);
			main_fd_budget_check(m);
			kernel_limits_check(m->cfg->max_clients, m->n_workers);
			ret = 0;
		} else {
			talloc_free(merged);
		}
	}
	talloc_free(next);
	reload_event(m, ret == 0, ret == 0 ? NULL : err);
	return ret;
}

void main_reload_key_result(struct main_ctx *m, const MsReloadResult *r)
{
	char why[600];

	if (r->generation != m->reload_gen) {
		log_warn("sec answered a reload of generation %u; expected %u", r->generation,
			 m->reload_gen);
		return;
	}
	m->reload_gen = 0;
	if (!r->ok) {
		snprintf(why, sizeof(why), "%s; new connections keep the old certificate and key",
			 r->reason ? r->reason : "sec refused the new key");
		reload_event(m, false, why);
		return;
	}
	if (config_in_token(m->cfg->server_cert)) {
		if (!r->has_cert_pem || !r->cert_pem.len) {
			reload_event(m, false, "sec loaded the key but sent no certificate; new "
					       "connections keep the old certificate and key");
			return;
		}
		m->pending_cert = talloc_memdup(m, r->cert_pem.data, r->cert_pem.len);
		m->pending_cert_len = r->cert_pem.len;
		main_server_cert_check(m->pending_cert, m->pending_cert_len, m->cfg);
	}
	talloc_free(m->cert_pem);
	m->cert_pem = talloc_steal(m, m->pending_cert);
	m->cert_pem_len = m->pending_cert_len;
	m->pending_cert = NULL;
	m->cert_gen = r->generation;
	log_info("new connections use the certificate of generation %u", m->cert_gen);
}
