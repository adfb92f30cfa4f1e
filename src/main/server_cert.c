/* What an operator should hear about the server certificate before clients do: that it
 * expires soon, or does not name the address the server listens on. */
#include "config.h"

#include "main/server_cert.h"

#include <arpa/inet.h>
#include <gnutls/x509.h>
#include <time.h>

#include "common/log.h"

#define EXPIRY_WARN_DAYS 30

unsigned main_server_cert_check(const char *pem, size_t len, const struct sluice_config *c)
{
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	gnutls_x509_crt_t crt;
	unsigned warnings = 0;
	time_t now = time(NULL), expires;
	unsigned char addr[16];

	if (gnutls_x509_crt_init(&crt) < 0)
		return 0;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		log_warn("server-cert %s: cannot read its first certificate", c->server_cert);
		gnutls_x509_crt_deinit(crt);
		return 1;
	}
	expires = gnutls_x509_crt_get_expiration_time(crt);
	if (expires != (time_t)-1 && expires < now) {
		log_warn("server-cert %s expired %lld days ago: clients refuse it", c->server_cert,
			 (long long)((now - expires) / 86400));
		warnings++;
	} else if (expires != (time_t)-1 && expires - now < EXPIRY_WARN_DAYS * 86400) {
		long long hours = (long long)((expires - now) / 3600);

		if (hours < 48)
			log_warn("server-cert %s expires in %lld hours: renew it", c->server_cert,
				 hours);
		else
			log_warn("server-cert %s expires in %lld days: renew it", c->server_cert,
				 hours / 24);
		warnings++;
	}
	if (gnutls_x509_crt_get_activation_time(crt) > now) {
		log_warn("server-cert %s is not valid yet", c->server_cert);
		warnings++;
	}
	/* Clients that connect to the listen-host address check that the certificate names
	 * it (a name users type is not known here). */
	if (c->listen_host) {
		gnutls_datum_t ip = {addr, 0};

		if (inet_pton(AF_INET, c->listen_host, addr) == 1)
			ip.size = 4;
		else if (inet_pton(AF_INET6, c->listen_host, addr) == 1)
			ip.size = 16;
		if (ip.size && !gnutls_x509_crt_check_ip(crt, ip.data, ip.size, 0) &&
		    !(ip.size == 4 && addr[0] == 0) && !(ip.size == 16 && addr[0] == 0)) {
			log_warn("server-cert %s does not name listen-host %s: clients that connect "
				 "to that address refuse it (unless they pin it)",
				 c->server_cert, c->listen_host);
			warnings++;
		}
	}
	gnutls_x509_crt_deinit(crt);
	return warnings;
}
