/* The one command table: dispatch, completion and help all read it. */
#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>
#include <string.h>

const struct ctl_command *const ctl_commands[] = {
    &ctl_show_status,        &ctl_show_users,       &ctl_show_user,    &ctl_show_id,
    &ctl_show_sec_sessions,  &ctl_show_sec_session, &ctl_show_cookies, &ctl_show_ip_bans,
    &ctl_show_ip_ban_points, &ctl_show_iroutes,     &ctl_show_events,  &ctl_disconnect_user,
    &ctl_disconnect_id,      &ctl_unban_ip,         &ctl_reload,       &ctl_stop,
};
const size_t ctl_n_commands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);

static size_t n_words(const struct ctl_command *c)
{
	size_t n = 0;

	while (n < CTL_MAX_WORDS && c->words[n])
		n++;
	return n;
}

void ctl_help(FILE *f)
{
	fprintf(f, "commands:\n");
	for (size_t i = 0; i < ctl_n_commands; i++) {
		const struct ctl_command *c = ctl_commands[i];
		char line[64] = "";

		for (size_t w = 0; w < n_words(c); w++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s",
				 w ? " " : "", c->words[w]);
		if (c->arg)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", c->arg);
		fprintf(f, "  %-24s %s\n", line, c->help);
	}
}

int ctl_dispatch(const struct ctl_opts *o, int argc, char **argv)
{
	for (size_t i = 0; i < ctl_n_commands; i++) {
		const struct ctl_command *c = ctl_commands[i];
		size_t n = n_words(c), w;

		if ((size_t)argc != n + (c->arg != NULL))
			continue;
		for (w = 0; w < n && strcmp(argv[w], c->words[w]) == 0; w++)
			;
		if (w == n)
			return c->run(o, c->arg ? argv[n] : NULL);
	}
	fprintf(stderr, "sluicectl: unknown command or wrong arguments\n");
	ctl_help(stderr);
	return CTL_USAGE;
}
