/* consumer.c — libinger and libgotcha from an installed inger, through inger.pc. */
#include <libgotcha.h>
#include <libinger.h>
static void set(void *arg) { *(int *)arg = 42; }
int main(void) {
	int x = 0;
	linger_t l = launch(set, LINGER_UNLIMITED, &x);
	struct gotcha_info info;
	gotcha_get_info(&info); /* libgotcha's own API: inger.pc links it too */
	return l.is_complete && x == 42 && (info.slots > 0 || info.disabled_reason) ? 0 : 1;
}
