/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The INI configuration, as `tether run -c FILE` reads it: defaults with a
 * fixed HOME, config_load_string on the file's text, then config_finish.
 * Like config_load_file, text with a NUL byte or over 64 KiB is refused
 * before parsing, so such inputs are skipped.
 */
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tether_config cfg;
	struct error err;
	char *text;

	if (size > CONFIG_FILE_MAX)
		return -1;
	if ((text = fuzz_strndup_nonul(data, size)) == NULL)
		return -1;
	config_init_defaults(&cfg, FUZZ_HOME);
	error_clear(&err);
	if (config_load_string(&cfg, text, "fuzz.conf", &err) == 0) {
		FUZZ_CHECK(!error_is_set(&err));
		FUZZ_CHECK(cfg.nforwards <= CONFIG_FORWARDS_MAX);
		if (config_finish(&cfg, &err) == 0)
			fuzz_check_finished_config(&cfg);
		else
			FUZZ_CHECK(error_is_set(&err) && err.code != 0);
	} else {
		/* A refusal always says why, in one line. */
		FUZZ_CHECK(error_is_set(&err) && err.code != 0);
		FUZZ_CHECK(FUZZ_TERMINATED(err.msg));
	}
	free(text);
	return 0;
}
