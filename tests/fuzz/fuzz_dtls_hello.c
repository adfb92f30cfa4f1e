/* Feeds each input to main's ClientHello parser as one datagram. An accepted
 * id must lie at its fixed offset inside the input, the record and the
 * fragment, and the verdict must not depend on bytes after the first record. */
#include "config.h"
#include "main/dtls_hello.h"

#include <stdlib.h>

#define OFF_ID 60

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *id = NULL;
	size_t id_len = 0, rec_end, frag_end;

	if (dtls_hello_session_id(data, size, &id, &id_len) != 0)
		return 0;
	if (id_len < 1 || id_len > DTLS_SESSION_ID_MAX || id != data + OFF_ID ||
	    id_len > size - OFF_ID)
		abort();
	rec_end = 13 + ((size_t)data[11] << 8 | data[12]);
	frag_end = 25 + ((size_t)data[22] << 16 | (size_t)data[23] << 8 | data[24]);
	if (rec_end > size || frag_end > rec_end || OFF_ID + id_len > frag_end)
		abort();
	if (dtls_hello_session_id(data, rec_end, &id, &id_len) != 0 || id != data + OFF_ID)
		abort();
	if (dtls_hello_session_id(data, OFF_ID + id_len - 1, &id, &id_len) == 0)
		abort();
	return 0;
}
