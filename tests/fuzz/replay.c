/*
 * replay: a main() for a fuzz harness built without libFuzzer. It runs
 * every file under the given folders through LLVMFuzzerTestOneInput,
 * as it is and once more per mode byte the harness declares, so each
 * harness keeps compiling and its invariants keep holding in ctest.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Defined by each harness: how many values its leading byte selects. */
extern const unsigned fuzz_replay_modes;

static size_t replay_inputs;

static int
replay_file(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	size_t n = (size_t)st->st_size;
	uint8_t *buf;
	unsigned m;
	FILE *fp;

	(void)ftw;
	if (type != FTW_F)
		return 0;
	/* One spare byte in front for the mode. */
	if ((buf = malloc(n + 1)) == NULL || (fp = fopen(path, "rb")) == NULL) {
		perror(path);
		free(buf);
		return 1;
	}
	if (fread(buf + 1, 1, n, fp) != n) {
		fprintf(stderr, "%s: cannot read\n", path);
		fclose(fp);
		free(buf);
		return 1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf + 1, n);
	for (m = 0; m < fuzz_replay_modes; m++) {
		buf[0] = (uint8_t)m;
		LLVMFuzzerTestOneInput(buf, n + 1);
	}
	replay_inputs++;
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	int i;

	for (i = 1; i < argc; i++)
		if (nftw(argv[i], replay_file, 16, FTW_PHYS) != 0) {
			fprintf(stderr, "%s: replay failed\n", argv[i]);
			return 1;
		}
	printf("%s: %zu inputs replayed\n", name ? name + 1 : argv[0],
	    replay_inputs);
	return replay_inputs == 0;
}
