/* sec's privileges. sec keeps root's uid and no capability at all. What it opens while
 * it serves are the server key (at start-up and on each reload), the password file and
 * the per-user and per-group files (at each login): root owns them in every layout
 * sluice makes (sluice-passwd run as root, the built-in state directory) and reads them
 * as their owner without CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH; a file of another
 * owner needs read permission for root's groups or for others. Nothing
 * else sec does (signing, password file lookups, its sockets, its timers) needs a
 * capability. The OTP helper it forks (sec_otp.c) inherits all of this; it replaces the
 * OTP users file by a new file in the same directory, which root's uid may do without a
 * capability in a directory root owns. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* Tries to see any capability left, and to take one back; 0 when neither works. */
static int privdrop_prove(bool bounding)
{
	cap_value_t dac = CAP_DAC_OVERRIDE;
	cap_t now = cap_get_proc(), none = cap_init(), more = cap_init();
	int ret = 0;

	if (!now || !none || !more) {
		ret = -ENOMEM;
		goto out;
	}
	if (cap_compare(now, none) != 0)
		ret = -EACCES;
	for (cap_value_t c = 0; c < cap_max_bits(); c++) {
		if (CAP_AMBIENT_SUPPORTED() && cap_get_ambient(c) != 0)
			ret = -EACCES;
		if (bounding && cap_get_bound(c) != 0)
			ret = -EACCES;
	}
	if (cap_set_flag(more, CAP_PERMITTED, 1, &dac, CAP_SET) < 0 ||
	    cap_set_flag(more, CAP_EFFECTIVE, 1, &dac, CAP_SET) < 0 || cap_set_proc(more) == 0)
		ret = -EACCES;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		ret = -EACCES;
out:
	cap_free(now);
	cap_free(none);
	cap_free(more);
	return ret;
}

int sec_privdrop(void)
{
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_t now = cap_get_proc(), none = cap_init();
	int ret = -ENOMEM;

	if (!now || !none)
		goto out;
	if (cap_get_flag(now, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap) < 0)
		goto fail;
	/* The bounding set limits what an execve could give back. Emptying it needs
	 * CAP_SETPCAP, so it goes first. A service manager that withheld CAP_SETPCAP has
	 * narrowed it already; no-new-privs below keeps an execve from using the rest. */
	if (setpcap == CAP_SET) {
		for (cap_value_t c = 0; c < cap_max_bits(); c++)
			if (cap_drop_bound(c) < 0)
				goto fail;
	}
	/* Ambient capabilities would survive an execve. */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		goto fail;
	/* Effective, permitted, inheritable: empty. */
	if (cap_set_proc(none) < 0)
		goto fail;
	/* An execve by uid 0 gets every capability of the bounding set back, unless the
	 * process has no-new-privs (the filter forbids execve as well). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	/* The private key is in this memory: no core dump of it, and no ptrace or
	 * /proc/PID/mem from processes of uid 0 that lack CAP_SYS_PTRACE. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		goto fail;
	ret = privdrop_prove(setpcap == CAP_SET);
	if (ret == 0 && setpcap != CAP_SET)
		ret = 1;
	goto out;
fail:
	ret = -errno;
out:
	cap_free(now);
	cap_free(none);
	return ret;
}
