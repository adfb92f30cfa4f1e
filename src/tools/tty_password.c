#include "config.h"

#include "tools/tty_password.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

static void restore_tty(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads one line with read(2), so that no stdio buffer keeps a copy of the password. */
static int read_line(char *buf, size_t size)
{
	size_t len = 0;
	bool too_long = false;
	ssize_t n;
	char c;

	for (;;) {
		n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (len == 0 && !too_long)
				return -ENODATA;
			break;
		}
		if (c == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = c;
		else
			too_long = true;
	}
	explicit_bzero(&c, sizeof(c));
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return too_long ? -E2BIG : 0;
}

static int prompt_password(const char *prompt, char *buf, size_t size)
{
	struct termios quiet;
	struct sigaction sa = {.sa_handler = restore_tty};
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
	int ret;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return -errno;
	tty_changed = 1;
	ret = read_line(buf, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_changed = 0;
	fputc('\n', stderr);
	return ret;
}

int tty_password_get(const char *prog, const char *prompt, const char *again_prompt, char *pw,
		     char *again, size_t size)
{
	bool tty = isatty(STDIN_FILENO);
	int ret;

	ret = tty ? prompt_password(prompt, pw, size) : read_line(pw, size);
	if (ret == 0 && pw[0] != '\0' && tty) {
		ret = prompt_password(again_prompt, again, size);
		if (ret == 0 && strcmp(pw, again) != 0) {
			fprintf(stderr, "%s: passwords do not match\n", prog);
			return -EINVAL;
		}
	}
	if (ret == -ENODATA || (ret == 0 && pw[0] == '\0')) {
		fprintf(stderr, "%s: empty password refused\n", prog);
		return -EINVAL;
	}
	if (ret == -E2BIG) {
		fprintf(stderr, "%s: password longer than %zu bytes\n", prog, size - 1);
		return ret;
	}
	if (ret < 0)
		fprintf(stderr, "%s: cannot read the password: %s\n", prog, strerror(-ret));
	return ret;
}
