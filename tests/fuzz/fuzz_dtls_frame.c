/* Parses each input as one decrypted DTLS record and rebuilds it: the header
 * written for the parsed type and length must give back the same record. */
#include "config.h"
#include "worker/dtls_frame.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls_frame f;
	uint8_t *copy;

	if (dtls_frame_parse(data, size, &f) != 0) {
		if (size != 0)
			abort();
		return 0;
	}
	if (f.payload != data + DTLS_HDR_LEN || f.len != size - DTLS_HDR_LEN || f.type != data[0])
		abort();
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy + DTLS_HDR_LEN, f.payload, f.len);
	if (dtls_frame_put(copy, f.type, f.len) != size || memcmp(copy, data, size) != 0)
		abort();
	free(copy);
	return 0;
}
