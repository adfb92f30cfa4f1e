/* The tunnel's compression methods: liblz4 for oc-lz4, lzs.c for Stac LZS. */
#include "config.h"

#include "worker/compress.h"

#include <errno.h>
#include <limits.h>
#include <lz4.h>
#include <string.h>
#include <strings.h>

#include "worker/lzs.h"

struct comp_method {
	const char *name; /* as in X-CSTP-Content-Encoding */
	int (*compress)(uint8_t *dst, size_t cap, const uint8_t *src, size_t len);
	int (*decompress)(uint8_t *dst, size_t cap, const uint8_t *src, size_t len);
};

static int lz4_pack(uint8_t *dst, size_t cap, const uint8_t *src, size_t len)
{
	/* 0 when the block does not fit in cap: too little to gain */
	int n = LZ4_compress_default((const char *)src, (char *)dst, (int)len, (int)cap);

	return n > 0 ? n : -EFBIG;
}

static int lz4_unpack(uint8_t *dst, size_t cap, const uint8_t *src, size_t len)
{
	/* bounded by both lengths whatever the bytes say */
	int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)len, (int)cap);

	return n >= 0 ? n : -EINVAL;
}

static const struct comp_method methods[] = {
    {"oc-lz4", lz4_pack, lz4_unpack},
    {"lzs", lzs_compress, lzs_decompress},
};

/* Is name one of the comma-separated items of list (spaces around items allowed)? */
static int offered(const char *list, const char *name)
{
	size_t nlen = strlen(name);

	while (*list) {
		size_t len;

		list += strspn(list, " \t,");
		len = strcspn(list, ",");
		while (len > 0 && (list[len - 1] == ' ' || list[len - 1] == '\t'))
			len--;
		if (len == nlen && strncasecmp(list, name, nlen) == 0)
			return 1;
		list += strcspn(list, ",");
	}
	return 0;
}

const struct comp_method *comp_choose(const char *offer, char *const *order, size_t n_order)
{
	if (!offer)
		return NULL;
	for (size_t i = 0; i < n_order; i++)
		for (size_t j = 0; j < sizeof(methods) / sizeof(methods[0]); j++)
			if (strcmp(order[i], methods[j].name) == 0 && offered(offer, order[i]))
				return &methods[j];
	return NULL;
}

const char *comp_name(const struct comp_method *m)
{
	return m ? m->name : "";
}

size_t comp_packet(const struct comp_method *m, uint8_t *dst, size_t cap, const uint8_t *src,
		   size_t len)
{
	int n;

	if (len < 2 || len > COMP_MAX_PACKET)
		return 0;
	/* Only a smaller result is worth the receiver's work. */
	if (cap > len - 1)
		cap = len - 1;
	n = m->compress(dst, cap, src, len);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int comp_unpacket(const struct comp_method *m, uint8_t *dst, size_t cap, const uint8_t *src,
		  size_t len)
{
	if (len == 0 || len > INT_MAX || cap > INT_MAX)
		return -EINVAL;
	return m->decompress(dst, cap, src, len);
}
