/* sluicectl: runs one command from its arguments, or, without any, an interactive
 * shell with completion of the command words. */
#include "config.h"

#include "ctl/ctl.h"

#include <editline/readline.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/sluiced/ctl.sock"
#define MAX_WORDS      8

static void usage(FILE *f)
{
	fprintf(f, "usage: sluicectl [-j|--json] [-n|--no-pager] [-d|--debug] "
		   "[-s|--socket-file FILE] [COMMAND...]\n"
		   "Without a command, an interactive shell (help, exit). sluicectl never pages "
		   "its output; -n is taken as occtl takes it.\n");
	ctl_help(f);
}

static char typed[MAX_WORDS][32];
static size_t ntyped;

/* The word command c offers after the typed words, if it starts with text. */
static const char *candidate(const struct ctl_command *c, const char *text)
{
	if (ntyped >= CTL_MAX_WORDS || !c->words[ntyped])
		return NULL;
	for (size_t i = 0; i < ntyped; i++)
		if (strcmp(typed[i], c->words[i]) != 0)
			return NULL;
	return strncmp(c->words[ntyped], text, strlen(text)) == 0 ? c->words[ntyped] : NULL;
}

/* Completion: the command words that fit after the words already typed. */
static char *complete_word(const char *text, int state)
{
	static size_t cmd;

	if (!state) {
		char line[256], *save = NULL, *w;

		cmd = 0;
		ntyped = 0;
		snprintf(line, sizeof(line), "%.*s", (int)(rl_point - strlen(text)),
			 rl_line_buffer);
		for (w = strtok_r(line, " \t", &save); w && ntyped < MAX_WORDS;
		     w = strtok_r(NULL, " \t", &save))
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", w);
	}
	while (cmd < ctl_n_commands) {
		const char *word = candidate(ctl_commands[cmd++], text);
		bool seen = false;

		/* Each word once, although several commands share it. */
		for (size_t k = 0; word && k + 1 < cmd && !seen; k++) {
			const char *earlier = candidate(ctl_commands[k], text);

			seen = earlier && strcmp(earlier, word) == 0;
		}
		if (word && !seen)
			return strdup(word);
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, complete_word);
}

/* Runs one line of the shell; true when it asks to leave. */
static bool run_line(const struct ctl_opts *o, char *line)
{
	char *argv[MAX_WORDS], *save = NULL;
	int argc = 0;

	/* Before the words are cut out of it in place, so that the history recalls the
	 * whole line. */
	if (line[strspn(line, " \t")])
		add_history(line);
	for (char *w = strtok_r(line, " \t", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	if (!argc)
		return false;
	if (!strcmp(argv[0], "exit") || !strcmp(argv[0], "quit"))
		return true;
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "?"))
		ctl_help(stdout);
	else
		ctl_dispatch(o, argc, argv);
	return false;
}

/* A failed command has printed why; leaving the shell (exit, quit, end of file) is not
 * a failure, so the shell's own status is 0. */
static int shell(const struct ctl_opts *o)
{
	bool leave = false;
	char *line;

	rl_readline_name = "sluicectl";
	rl_attempted_completion_function = complete;
	while (!leave && (line = readline("sluicectl> ")) != NULL) {
		leave = run_line(o, line);
		free(line);
	}
	/* At end of file the cursor is still after the prompt: end that line so that the
	 * caller's shell prompt starts on its own. */
	if (!leave && isatty(STDIN_FILENO))
		putchar('\n');
	return CTL_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},  {"no-pager", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'}, {"socket-file", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},  {NULL, 0, NULL, 0},
	};
	struct ctl_opts o = {.socket_file = DEFAULT_SOCKET};
	int c;

	while ((c = getopt_long(argc, argv, "+jnds:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'n': /* occtl's: sluicectl writes to its output as it is, never to a pager */
			break;
		case 'd':
			o.debug = true;
			break;
		case 's':
			o.socket_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind == argc)
		return shell(&o);
	return ctl_dispatch(&o, argc - optind, argv + optind);
}
