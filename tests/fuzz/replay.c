/* SPDX-License-Identifier: MIT */
/*
 * Replay a fuzz target over files without libFuzzer, so that the seed
 * corpus and every crash ever found (tests/fuzz/regress) run in
 * `make check` with gcc and under ASan+UBSan. Prints one TAP line.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay(const char *path, unsigned long *n)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	FILE *f;
	uint8_t *buf;
	size_t len;

	if (stat(path, &st) == -1)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		d = opendir(path);
		if (d == NULL)
			return -1;
		while ((e = readdir(d)) != NULL) {
			char sub[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			if (replay(sub, n) == -1) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
		return 0;
	}
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*n)++;
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long n = 0;
	int i;

	printf("1..1\n");
	for (i = 1; i < argc; i++) {
		if (replay(argv[i], &n) == -1) {
			printf("not ok 1 - %s: cannot read %s\n", argv[0], argv[i]);
			return 1;
		}
	}
	printf("ok 1 - %s: %lu inputs replayed\n", argv[0], n);
	return 0;
}
