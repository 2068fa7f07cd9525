/*
 * libFuzzer target: wire_decode, the main process's parser of whatever
 * a (possibly crashed or compromised) modem worker writes. The input is
 * a stream of frames, decoded one after the other as the main loop
 * does; every frame that decodes must encode back to the very same
 * bytes and decode again to the same message. Build with 'make fuzz'.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg	 m, again;
	uint8_t		 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t		 off = 0, used, used2, len;
	int		 rc;

	while (off < size) {
		used = 0;
		rc = wire_decode(data + off, size - off, &m, &used);
		if (rc == 0 || rc == -1)
			break;
		if (rc != 1 || used < WIRE_HDR_LEN || used > size - off ||
		    used > sizeof(buf))
			abort();
		if (strcmp(wire_type_name(m.type), "UNKNOWN") == 0)
			abort();
		/* Re-encoding gives the very bytes that were decoded. */
		if (wire_encode(&m, buf, sizeof(buf), &len) != 0 ||
		    len != used || memcmp(buf, data + off, len) != 0)
			abort();
		/* And they decode to the same message, field for field. */
		if (wire_decode(buf, len, &again, &used2) != 1 ||
		    used2 != len || memcmp(&m, &again, sizeof(m)) != 0)
			abort();
		/* A frame cut short is never a message. */
		if (wire_decode(buf, len - 1, &again, &used2) != 0)
			abort();
		off += used;
	}
	return (0);
}
