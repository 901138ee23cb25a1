#include <inger/inger.hpp>
int main() {
	auto f = inger::launch([] { return 6 * 7; }, std::chrono::milliseconds(10));
	return f.done() && f.get() == 42 ? 0 : 1;
}
