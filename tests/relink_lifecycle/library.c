/* A library whose constructor allocates and whose destructor frees, as libtasn1 and gnutls
 * do: the libgotcha tests check that its copies' constructors and destructors do not mix the
 * copies' heaps with the base heap. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *table;           /* above the tcache's sizes: free() checks such chunks */
static const size_t table_size = 64 * 1024;

__attribute__((constructor)) static void make_table(void) {
	table = malloc(table_size);
	if (table)
		memset(table, 'x', table_size);
}

/* Says so on stdout (unbuffered), so that the test counts how many instances ran it. */
__attribute__((destructor)) static void free_table(void) {
	free(table);
	table = NULL;
	static const char said[] = "lifecycle destructor\n";
	if (write(1, said, sizeof said - 1) < 0)
		return;
}

/* Whether the constructor's table is there; also a call the program routes through libsets. */
int lifecycle_table_ready(void) { return table != NULL && table[table_size - 1] == 'x'; }

/* Replace the table with a larger one: a later call that frees what a constructor allocated. */
int lifecycle_table_grow(void) {
	char *bigger = realloc(table, 2 * table_size);
	if (!bigger)
		return 0;
	memset(bigger + table_size, 'x', table_size);
	table = bigger;
	return 1;
}
