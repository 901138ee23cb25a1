#include <libinger.h>
static void set(void *arg) { *(int *)arg = 42; }
int main(void) {
	int x = 0;
	linger_t l = launch(set, LINGER_UNLIMITED, &x);
	return l.is_complete && x == 42 ? 0 : 1;
}
