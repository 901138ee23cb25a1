/* A program linked with relink_lifecycle/library.c: launches a preemptible function (so that
 * libgotcha copies the library), prints much more than a pipe's stdio buffer, and exits with
 * status 3 through exit(), whose handlers flush stdout after the libraries' destructors.
 * Usage: program [grow]   (grow: the function also reallocs the constructor's table). */
#include <libinger.h>

#include <stdio.h>
#include <string.h>

int lifecycle_table_ready(void);
int lifecycle_table_grow(void);

static int grow;
static int ok;

static void use_library(void *unused) {
	(void)unused;
	ok = lifecycle_table_ready() && (!grow || (lifecycle_table_grow() && lifecycle_table_ready()));
}

int main(int argc, char **argv) {
	grow = argc > 1 && strcmp(argv[1], "grow") == 0;
	linger_t l = launch(use_library, LINGER_UNLIMITED, NULL);
	if (!l.is_complete || l.error != LINGER_OK)
		return 1;
	printf("library %s\n", ok ? "ready" : "broken");
	for (int i = 0; i < 2000; i++)
		printf("line %d\n", i);
	return 3;
}
