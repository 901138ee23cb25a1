/* registry.c — a library with a process-wide registry that the program fills at start-up, the
 * pattern of libprotobuf's descriptors and of plugin registries. */
#include <string.h>

static const char *names[16];
static int count;

int test_registry_add(const char *name) {
	if (count == 16)
		return -1;
	names[count] = name;
	return count++;
}

int test_registry_find(const char *name) {
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}
