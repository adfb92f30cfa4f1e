/* What the commands of sluice-certs share: messages, files, and reading and describing
 * keys and certificates. */
#include "config.h"

#include "tools/certs.h"
#include "tools/tool_file.h"
#include "common/text.h"
#include "common/tls_pin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void certs_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(CERTS_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void certs_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

char *certs_path(TALLOC_CTX *ctx, const char *dir, const char *name)
{
	return talloc_asprintf(ctx, "%s/%s", dir, name);
}

int certs_read_file(TALLOC_CTX *ctx, const char *path, size_t max, gnutls_datum_t *data)
{
	struct stat st;
	unsigned char *buf;
	size_t len = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		certs_fail("%s: %s", path, strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		err = errno;
		if (fstat(fd, &st) < 0)
			certs_fail("%s: %s", path, strerror(err));
		else if (!S_ISREG(st.st_mode))
			certs_fail("%s: not a regular file", path);
		else
			certs_fail("%s: larger than %zu bytes", path, max);
		close(fd);
		return -EINVAL;
	}
	buf = talloc_size(ctx, (size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			certs_fail("%s: %s", path, strerror(err));
			close(fd);
			talloc_free(buf);
			return -err;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	data->data = buf;
	data->size = (unsigned)len;
	return 0;
}

int certs_write(const char *path, const void *data, size_t len, mode_t mode, bool no_clobber)
{
	struct tool_file_meta meta = {
	    .mode = mode, .uid = geteuid(), .gid = getegid(), .no_clobber = no_clobber};
	int ret = tool_write_file(CERTS_PROG, path, data, len, &meta);

	if (ret == -EEXIST)
		certs_fail("%s exists already; --force replaces it", path);
	return ret;
}

int certs_refuse_existing(const char *const *paths)
{
	struct stat st;
	int ret = 0;

	for (size_t i = 0; paths[i] != NULL; i++) {
		if (lstat(paths[i], &st) == 0) {
			certs_fail("%s exists already; --force replaces it", paths[i]);
			ret = -EEXIST;
		}
	}
	return ret;
}

int certs_mkdir(const char *path, mode_t mode)
{
	char buf[4096];
	struct stat st;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		certs_fail("%s: bad directory name", path);
		return -EINVAL;
	}
	memcpy(buf, path, len + 1);
	/* The parents, then the directory itself; each one made gets its mode with chmod,
	 * as mkdir's is cut by the umask. */
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, i == len ? mode : 0755) == 0) {
			if (chmod(buf, i == len ? mode : 0755) < 0) {
				certs_fail("%s: %s", buf, strerror(errno));
				return -EIO;
			}
		} else if (errno != EEXIST || stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
			certs_fail("%s: %s", buf,
				   errno == EEXIST ? "exists and is not a directory"
						   : strerror(errno));
			return -EIO;
		}
		buf[i] = path[i];
	}
	return 0;
}

struct crt_holder {
	gnutls_x509_crt_t crt;
};

static int crt_holder_free(struct crt_holder *h)
{
	gnutls_x509_crt_deinit(h->crt);
	return 0;
}

/* Hands crt (made by GnuTLS) to ctx. */
static int crt_adopt(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	struct crt_holder *h = talloc(ctx, struct crt_holder);

	if (h == NULL) {
		gnutls_x509_crt_deinit(crt);
		return -ENOMEM;
	}
	h->crt = crt;
	talloc_set_destructor(h, crt_holder_free);
	return 0;
}

gnutls_x509_crt_t certs_crt_new(TALLOC_CTX *ctx)
{
	gnutls_x509_crt_t crt;

	if (gnutls_x509_crt_init(&crt) < 0 || crt_adopt(ctx, crt) < 0)
		return NULL;
	return crt;
}

struct key_holder {
	gnutls_x509_privkey_t key;
};

static int key_holder_free(struct key_holder *h)
{
	gnutls_x509_privkey_deinit(h->key);
	return 0;
}

gnutls_x509_privkey_t certs_privkey_new(TALLOC_CTX *ctx)
{
	struct key_holder *h = talloc(ctx, struct key_holder);

	if (h == NULL)
		return NULL;
	if (gnutls_x509_privkey_init(&h->key) < 0) {
		talloc_free(h);
		return NULL;
	}
	talloc_set_destructor(h, key_holder_free);
	return h->key;
}

static bool is_pem(const gnutls_datum_t *d)
{
	return strstr((const char *)d->data, "-----BEGIN ") != NULL;
}

int certs_load_crts(TALLOC_CTX *ctx, const char *path, gnutls_x509_crt_t **crts, unsigned *n)
{
	gnutls_datum_t d;
	gnutls_x509_crt_t *list = NULL;
	unsigned count = 0;
	int ret;

	ret = certs_read_file(ctx, path, CERTS_MAX_FILE, &d);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crt_list_import2(
	    &list, &count, &d, is_pem(&d) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, 0);
	talloc_free(d.data);
	if (ret < 0 || count == 0) {
		certs_fail("%s: not a certificate (PEM or DER)%s%s", path, ret < 0 ? ": " : "",
			   ret < 0 ? gnutls_strerror(ret) : "");
		return -EINVAL;
	}
	*crts = talloc_array(ctx, gnutls_x509_crt_t, count);
	for (unsigned i = 0; i < count; i++) {
		if (*crts == NULL || crt_adopt(*crts, list[i]) < 0) {
			for (unsigned j = i + (*crts == NULL ? 0 : 1); j < count; j++)
				gnutls_x509_crt_deinit(list[j]);
			gnutls_free(list);
			talloc_free(*crts);
			return -ENOMEM;
		}
		(*crts)[i] = list[i];
	}
	gnutls_free(list);
	*n = count;
	return 0;
}

int certs_load_privkey(TALLOC_CTX *ctx, const char *path, gnutls_x509_privkey_t *key)
{
	gnutls_datum_t d;
	int ret;

	ret = certs_read_file(ctx, path, CERTS_MAX_FILE, &d);
	if (ret < 0)
		return ret;
	*key = certs_privkey_new(ctx);
	ret = *key == NULL ? GNUTLS_E_MEMORY_ERROR
			   : gnutls_x509_privkey_import2(
				 *key, &d, is_pem(&d) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER,
				 NULL, GNUTLS_PKCS_PLAIN);
	explicit_bzero(d.data, d.size);
	talloc_free(d.data);
	if (ret < 0) {
		certs_fail("%s: cannot read the private key: %s", path,
			   ret == GNUTLS_E_DECRYPTION_FAILED ? "it is encrypted (or not a key)"
							     : gnutls_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

int certs_key_generate(TALLOC_CTX *ctx, enum certs_key_type type, unsigned bits,
		       gnutls_x509_privkey_t *key)
{
	int ret;

	*key = certs_privkey_new(ctx);
	if (*key == NULL)
		return -ENOMEM;
	if (type == CERTS_KEY_RSA)
		ret = gnutls_x509_privkey_generate2(*key, GNUTLS_PK_RSA, bits, 0, NULL, 0);
	else
		ret = gnutls_x509_privkey_generate2(
		    *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
		    NULL, 0);
	if (ret < 0) {
		certs_fail("cannot generate a key: %s", gnutls_strerror(ret));
		return -EIO;
	}
	return 0;
}

int certs_key_pem(gnutls_x509_privkey_t key, gnutls_datum_t *pem)
{
	int ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
						    GNUTLS_PKCS_PLAIN, pem);

	if (ret < 0) {
		certs_fail("cannot export the key: %s", gnutls_strerror(ret));
		return -EIO;
	}
	return 0;
}

const char *certs_key_describe(TALLOC_CTX *ctx, gnutls_pk_algorithm_t pk, unsigned bits,
			       gnutls_ecc_curve_t curve)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
		return talloc_asprintf(ctx, "RSA %u-bit", bits);
	case GNUTLS_PK_RSA_PSS:
		return talloc_asprintf(ctx, "RSA-PSS %u-bit", bits);
	case GNUTLS_PK_ECDSA:
		switch (curve) {
		case GNUTLS_ECC_CURVE_SECP256R1:
			return "ECDSA P-256";
		case GNUTLS_ECC_CURVE_SECP384R1:
			return "ECDSA P-384";
		case GNUTLS_ECC_CURVE_SECP521R1:
			return "ECDSA P-521";
		default:
			return talloc_asprintf(
			    ctx, "ECDSA %s", gnutls_ecc_curve_get_name(curve) ?: "(unknown curve)");
		}
	case GNUTLS_PK_EDDSA_ED25519:
		return "Ed25519";
	case GNUTLS_PK_EDDSA_ED448:
		return "Ed448";
	default:
		return talloc_asprintf(ctx, "%s %u-bit", gnutls_pk_get_name(pk) ?: "unknown", bits);
	}
}

const char *certs_crt_key_describe(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	gnutls_pubkey_t pub;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
	unsigned bits = 0;
	int pk;
	const char *s;

	if (gnutls_pubkey_init(&pub) < 0)
		return "unknown";
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0) {
		gnutls_pubkey_deinit(pub);
		return "unknown";
	}
	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	if (pk == GNUTLS_PK_ECDSA && gnutls_pubkey_export_ecc_raw(pub, &curve, &x, &y) == 0) {
		gnutls_free(x.data);
		gnutls_free(y.data);
	}
	s = pk < 0 ? "unknown" : certs_key_describe(ctx, (gnutls_pk_algorithm_t)pk, bits, curve);
	gnutls_pubkey_deinit(pub);
	return s;
}

static char *pin_text(TALLOC_CTX *ctx, const uint8_t pin[TLS_PIN_LEN])
{
	gnutls_datum_t raw = {(unsigned char *)pin, TLS_PIN_LEN}, b64 = {NULL, 0};
	char *s = NULL;

	if (gnutls_base64_encode2(&raw, &b64) == 0)
		s = talloc_asprintf(ctx, "pin-sha256:%.*s", (int)b64.size, (char *)b64.data);
	gnutls_free(b64.data);
	return s;
}

/* The pin of the certificate's public key, or of the private key's (crt NULL). */
static char *pin_of(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t abs = NULL;
	uint8_t pin[TLS_PIN_LEN];
	int ret = gnutls_pubkey_init(&pub);

	if (ret >= 0)
		ret = crt ? gnutls_pubkey_import_x509(pub, crt, 0) : gnutls_privkey_init(&abs);
	/* Without GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE: key stays the caller's. */
	if (ret >= 0 && abs != NULL)
		ret = gnutls_privkey_import_x509(abs, key, 0);
	if (ret >= 0 && abs != NULL)
		ret = gnutls_pubkey_import_privkey(pub, abs, 0, 0);
	if (ret >= 0)
		ret = tls_pin_pubkey(pub, pin);
	if (abs != NULL)
		gnutls_privkey_deinit(abs);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return ret < 0 ? NULL : pin_text(ctx, pin);
}

char *certs_crt_pin(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	return pin_of(ctx, crt, NULL);
}

char *certs_privkey_pin(TALLOC_CTX *ctx, gnutls_x509_privkey_t key)
{
	return pin_of(ctx, NULL, key);
}

/* Text from a certificate may come from anyone: shown as valid UTF-8 without control
 * characters, so that it cannot drive the terminal. */
static char *clean_text(TALLOC_CTX *ctx, const void *s, size_t len)
{
	char *t = talloc_strndup(ctx, s, len);

	if (t != NULL)
		text_make_utf8(t);
	return t;
}

char *certs_crt_dn(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, bool issuer)
{
	gnutls_datum_t d = {NULL, 0};
	char *s;
	int ret = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0)
			 : gnutls_x509_crt_get_dn3(crt, &d, 0);

	if (ret < 0)
		return talloc_strdup(ctx, "(unreadable)");
	s = clean_text(ctx, d.data, d.size);
	gnutls_free(d.data);
	return s;
}

int certs_crt_serial(gnutls_x509_crt_t crt, uint8_t serial[CERTS_SERIAL_MAX], size_t *len)
{
	*len = CERTS_SERIAL_MAX;
	return gnutls_x509_crt_get_serial(crt, serial, len) < 0 || *len == 0 ? -EINVAL : 0;
}

char *certs_crt_names(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	char *s = talloc_strdup(ctx, "");

	for (unsigned i = 0; s != NULL; i++) {
		char buf[1024], ip[INET6_ADDRSTRLEN];
		size_t size = sizeof(buf) - 1;
		unsigned type = 0;
		const char *sep = s[0] ? ", " : "";
		char *v;
		int ret = gnutls_x509_crt_get_subject_alt_name2(crt, i, buf, &size, &type, NULL);

		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			s = talloc_asprintf_append(s, "%s(a name longer than %zu bytes)", sep,
						   sizeof(buf) - 1);
			continue;
		}
		if (ret < 0)
			break;
		if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
			inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, ip, sizeof(ip));
			s = talloc_asprintf_append(s, "%sIP:%s", sep, ip);
			continue;
		}
		v = clean_text(s, buf, size);
		if (type == GNUTLS_SAN_DNSNAME)
			s = talloc_asprintf_append(s, "%sDNS:%s", sep, v);
		else if (type == GNUTLS_SAN_RFC822NAME)
			s = talloc_asprintf_append(s, "%semail:%s", sep, v);
		else if (type == GNUTLS_SAN_URI)
			s = talloc_asprintf_append(s, "%sURI:%s", sep, v);
		else
			s = talloc_asprintf_append(s, "%s(a name of type %u)", sep, type);
	}
	return s;
}

const char *certs_time_text(TALLOC_CTX *ctx, time_t t)
{
	struct tm tm;
	char buf[64];

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		return "(unknown)";
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	return talloc_strdup(ctx, buf);
}
