/*
 * The AutoFDO/Propeller test program of test/pgo/autofdo.sh. Freestanding (no libc, its own _start)
 * so ld.lld links it directly, as Kbuild links vmlinux; prof.txt's line offsets count from the line
 * of each function's name, so keep the line numbers when editing.
 */
static volatile int sink;

__attribute__((noinline)) void report(const char *msg, int v)
{
	sink = v + msg[0];
}

__attribute__((noinline)) int cold_path(int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += i * 3;
	return s;
}

__attribute__((noinline)) int check(int x)
{
	if (x == 424242) {
		report("odd value", x);
		report("again", x * 3);
		return -1;
	}
	return x + 1;
}

__attribute__((noinline)) int hot_work(int n)
{
	int s = 0;
	for (int i = 0; i < n; i++) {
		if (i % 7 == 3)
			s += i;
		else
			s ^= i;
	}
	return check(s);
}

__attribute__((noinline)) int dispatch(int x)
{
	if (x < 0)
		return cold_path(-x);
	return hot_work(x);
}

int main(void)
{
	int s = 0;
	for (int r = 0; r < 1000; r++)
		s += dispatch(r);
	sink = s;
	return 0;
}

void _start(void)
{
	int rc = main();
	__asm__ volatile("syscall" : : "a"(60), "D"(rc) : "rcx", "r11", "memory");
	__builtin_unreachable();
}
