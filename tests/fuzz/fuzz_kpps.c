/*
 * libFuzzer target: kpps_load, the KPPS list of registered numbers
 * (lines TPS,NUMBER; an operator's file built from what the regions
 * send in). The input is the file; a list that loads is asked about
 * every TPS and number it names, and about some it does not.
 */

#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gw.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpps	*k;
	char		 path[64], err[512];
	int		 fd;

	log_init("fuzz_kpps", LOG_TO_STDERR, -1);
	if ((fd = memfd_create("kpps", 0)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((k = kpps_load(path, err, sizeof(err))) != NULL) {
		(void)kpps_unregistered(k, 3201011001001ULL, "+6281234567890");
		(void)kpps_unregistered(k, 0, "");
		(void)kpps_unregistered(k, 9999999999999ULL, "0812");
		kpps_free(k);
	}
	close(fd);
	return (0);
}
