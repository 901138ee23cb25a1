#include <turquoise/pool.hpp>
int main() {
	turquoise::pool pool(turquoise::pool_options{.workers = 1});
	return pool.submit([] { return 42; }).get() == 42 ? 0 : 1;
}
