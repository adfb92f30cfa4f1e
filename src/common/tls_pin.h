/* The SHA-256 of a public key's SubjectPublicKeyInfo (what openconnect pins with
 * --servercert pin-sha256:...): main computes it from the certificate it sends, sec
 * from the private key it loads, so that a key that does not match is never used. */
#ifndef SLUICE_TLS_PIN_H
#define SLUICE_TLS_PIN_H

#include <gnutls/abstract.h>
#include <stdint.h>

#define TLS_PIN_LEN 32

/* 0 or a negative errno. */
int tls_pin_pubkey(gnutls_pubkey_t pub, uint8_t pin[TLS_PIN_LEN]);
/* The pin of the first certificate of a PEM chain. */
int tls_pin_cert_pem(const void *pem, size_t len, uint8_t pin[TLS_PIN_LEN]);
/* The pin of a private key's public half. */
int tls_pin_privkey(gnutls_privkey_t key, uint8_t pin[TLS_PIN_LEN]);

#endif
