/* Checks every per-user and per-group file the configuration names, so that an
 * operator hears of a broken file from `sluiced -t` or a reload rather than from the
 * user whose login it refuses. */
#include "config.h"

#include "common/config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static unsigned check_dir(const char *key, const char *dir,
			  void (*report)(void *data, const char *problem), void *data)
{
	char path[4096], why[600];
	struct dirent *e;
	unsigned bad = 0;
	DIR *d = opendir(dir);

	if (!d) {
		snprintf(why, sizeof(why), "%s %s: %s", key, dir, strerror(errno));
		report(data, why);
		return 1;
	}
	while ((e = readdir(d))) {
		/* Names starting with a dot are never a user's or group's file (sec
		 * refuses to look them up): editor and package-manager leftovers. */
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		bad += config_check_user_file(path, false, report, data);
	}
	closedir(d);
	return bad;
}

unsigned config_check_user_files(const struct sluice_config *cfg,
				 void (*report)(void *data, const char *problem), void *data)
{
	unsigned bad = 0;

	if (cfg->config_per_user)
		bad += check_dir("config-per-user", cfg->config_per_user, report, data);
	if (cfg->config_per_group)
		bad += check_dir("config-per-group", cfg->config_per_group, report, data);
	if (cfg->default_user_config)
		bad += config_check_user_file(cfg->default_user_config, true, report, data);
	if (cfg->default_group_config)
		bad += config_check_user_file(cfg->default_group_config, true, report, data);
	return bad;
}
