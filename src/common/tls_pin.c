#include "config.h"

#include "common/tls_pin.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

int tls_pin_pubkey(gnutls_pubkey_t pub, uint8_t pin[TLS_PIN_LEN])
{
	gnutls_datum_t der = {NULL, 0};
	int ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);

	if (ret >= 0)
		ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, pin);
	gnutls_free(der.data);
	return ret < 0 ? -EINVAL : 0;
}

int tls_pin_cert_pem(const void *pem, size_t len, uint8_t pin[TLS_PIN_LEN])
{
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	gnutls_pubkey_t pub;
	int ret;

	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	ret = gnutls_pubkey_import_x509_raw(pub, &d, GNUTLS_X509_FMT_PEM, 0) < 0
		  ? -EINVAL
		  : tls_pin_pubkey(pub, pin);
	gnutls_pubkey_deinit(pub);
	return ret;
}

int tls_pin_privkey(gnutls_privkey_t key, uint8_t pin[TLS_PIN_LEN])
{
	gnutls_pubkey_t pub;
	int ret;

	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	ret = gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ? -EINVAL : tls_pin_pubkey(pub, pin);
	gnutls_pubkey_deinit(pub);
	return ret;
}
