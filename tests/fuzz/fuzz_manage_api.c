/* The management API's request layer (src/manage/api.c) on an authenticated caller's
 * untrusted request. The input is the role (first byte) and then, separated by NUL
 * bytes, the method, path, the name, id and sid query arguments, the content type and
 * the body. Whatever the bytes: the status is one api_parse may give; a call it accepts
 * is within the caller's role and carries only what main accepts (a printable name of
 * at most 255 bytes, a nonzero id, an address or prefix for unban; for the password
 * file, names without ':' that sluice-passwd cannot take for an option or a comment,
 * groups without ',' and a password on one line). */
#include "config.h"
#include "fuzz_input.h"

#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"
#include "manage/api.h"

/* The next NUL-terminated field of [*p, end), or NULL when the input has ended. */
static const char *next(const char **p, const char *end)
{
	const char *f = *p, *z;

	if (f >= end)
		return NULL;
	z = memchr(f, '\0', (size_t)(end - f));
	*p = z ? z + 1 : end;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	const char *p, *end, *why = NULL;
	struct api_request req = {0};
	struct api_call call;
	unsigned st;

	if (size < 1)
		return 0;
	s = fuzz_cstring(data + 1, size - 1);
	if (!s)
		abort();
	req.role = (enum manage_role)(data[0] % 3);
	p = s;
	end = s + size - 1;
	req.method = next(&p, end);
	req.path = next(&p, end);
	req.q_name = next(&p, end);
	req.q_id = next(&p, end);
	req.q_sid = next(&p, end);
	req.content_type = next(&p, end);
	if (p < end) {
		req.body = p;
		req.body_len = (size_t)(end - p) < API_BODY_MAX ? (size_t)(end - p) : API_BODY_MAX;
	}
	st = api_parse(&req, &call, &why);
	if (st != 200 && st != 400 && st != 403 && st != 404 && st != 405 && st != 415)
		abort();
	if (st != 200) {
		if (!why || !*why)
			abort();
		free(s);
		return 0;
	}
	if (req.role == MANAGE_ROLE_NONE || (api_op_changes(call.op) && req.role != MANAGE_ROLE_ADMIN))
		abort();
	switch (call.op) {
	case API_USER:
	case API_DISCONNECT_USER: {
		size_t n = strlen(call.arg);

		if (n == 0 || n > API_NAME_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)call.arg[i] < 0x20 || call.arg[i] == 0x7f)
				abort();
		break;
	}
	case API_ID:
	case API_DISCONNECT_ID:
		if (call.id == 0)
			abort();
		break;
	case API_UNBAN: {
		struct netaddr a;
		unsigned len;

		if (netaddr_prefix_parse(call.arg, &a, &len) < 0)
			abort();
		break;
	}
	case API_ACCOUNT_SET:
	case API_ACCOUNT_LOCK:
	case API_ACCOUNT_UNLOCK:
	case API_ACCOUNT_DELETE:
	case API_ACCOUNT_GROUPS:
		if (!call.arg[0] || strchr(call.arg, ':') || strchr("#- ", call.arg[0]))
			abort();
		if (call.op == API_ACCOUNT_SET &&
		    (!call.password[0] || strpbrk(call.password, "\r\n")))
			abort();
		if (call.n_groups > API_GROUPS_MAX || (call.n_groups && !call.set_groups))
			abort();
		for (size_t i = 0; i < call.n_groups; i++)
			if (!call.groups[i][0] || strpbrk(call.groups[i], ":,\n") ||
			    strchr("#- ", call.groups[i][0]))
				abort();
		break;
	case API_SESSION:
		if (strlen(call.arg) < 1 || strlen(call.arg) > 12)
			abort();
		break;
	default:
		break;
	}
	free(s);
	return 0;
}
