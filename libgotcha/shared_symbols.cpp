// shared_symbols.cpp — the one list of calls that are not copied ("uncopyable" functions).
//
// A call in this list goes to the base libraries whichever libset is current: the program's
// GOT entries for it are left alone, and the copies' own GOT entries for it are pointed back
// at the base. Preemption is deferred while the base libraries' code runs on behalf of a
// preemptible function (gotcha_defers_preemption()), so none of these is ever paused
// half-way, and a preemption that fell due meanwhile is taken right after the call.
//
// A function belongs here when its state must be one per process, not one per libset:
//  - memory: one heap, so that memory allocated in one libset can be freed in another
//    (libinger wraps these in critical sections, which is cheaper than deferral by address);
//  - threads, processes and thread-specific data: the thread descriptors and the TSD keys
//    live in the thread control block, which every copy of libc shares;
//  - the dynamic linker's interface: one set of loaded objects;
//  - exit handlers: only the base libc runs them at exit;
//  - stdio and the environment: stdout, stdin, stderr and environ are the program's own
//    objects (copy relocations), which every libset uses (see README.md, exported globals),
//    so the code operating on them must be one too, with one FILE lock per stream;
//  - functions that print through stdio on behalf of the program (perror, err, error).
#include "shared_symbols.hpp"

#include <algorithm>
#include <array>

namespace gotcha {
namespace {

// Sorted (checked at first use), for a binary search.
constexpr std::array<std::string_view, 217> shared_symbols = {
    "_Exit", "_IO_feof", "_IO_ferror", "_IO_getc", "_IO_putc", "_IO_puts", "__cxa_atexit",
    "__cxa_finalize", "__cxa_thread_atexit_impl", "__fgets_chk", "__fgets_unlocked_chk",
    "__fgetws_chk", "__fpending", "__fprintf_chk", "__fpurge", "__fread_chk",
    "__fread_unlocked_chk", "__freadable", "__freading", "__fsetlocking", "__fwprintf_chk",
    "__fwritable", "__fwriting", "__getdelim", "__isoc99_fscanf", "__isoc99_fwscanf",
    "__isoc99_scanf", "__isoc99_vfscanf", "__isoc99_vfwscanf", "__isoc99_vscanf",
    "__isoc99_vwscanf", "__isoc99_wscanf", "__libc_calloc", "__libc_free", "__libc_malloc",
    "__libc_memalign", "__libc_realloc", "__overflow", "__printf_chk", "__register_atfork",
    "__uflow", "__vfprintf_chk", "__vfwprintf_chk", "__vprintf_chk", "__vwprintf_chk",
    "__wprintf_chk", "_dl_find_object", "_exit", "aligned_alloc", "at_quick_exit", "atexit",
    "calloc", "clearenv", "clearerr", "clearerr_unlocked", "daemon", "dl_iterate_phdr",
    "dladdr", "dladdr1", "dlclose", "dlerror", "dlinfo", "dlmopen", "dlopen", "dlsym", "dlvsym",
    "err", "error", "error_at_line", "errx", "execl", "execle", "execlp", "execv", "execve",
    "execvp", "execvpe", "exit", "fclose", "fcloseall", "fdopen", "feof", "feof_unlocked",
    "ferror", "ferror_unlocked", "fexecve", "fflush", "fflush_unlocked", "fgetc",
    "fgetc_unlocked", "fgetpos", "fgetpos64", "fgets", "fgets_unlocked", "fgetwc",
    "fgetwc_unlocked", "fgetws", "fgetws_unlocked", "fileno", "fileno_unlocked", "flockfile",
    "fmemopen", "fopen", "fopen64", "fopencookie", "fork", "fprintf", "fputc", "fputc_unlocked",
    "fputs", "fputs_unlocked", "fputwc", "fputwc_unlocked", "fputws", "fputws_unlocked",
    "fread", "fread_unlocked", "free", "freopen", "freopen64", "fscanf", "fseek", "fseeko",
    "fseeko64", "fsetpos", "fsetpos64", "ftell", "ftello", "ftello64", "ftrylockfile",
    "funlockfile", "fwide", "fwprintf", "fwrite", "fwrite_unlocked", "fwscanf", "getc",
    "getc_unlocked", "getchar", "getchar_unlocked", "getdelim", "getenv", "getline", "getw",
    "getwc", "getwc_unlocked", "getwchar", "getwchar_unlocked", "malloc", "malloc_usable_size",
    "memalign", "on_exit", "open_memstream", "open_wmemstream", "pclose", "perror", "popen",
    "posix_memalign", "posix_spawn", "posix_spawnp", "printf", "psiginfo", "psignal",
    "pthread_atfork", "pthread_create", "pthread_exit", "pthread_getspecific",
    "pthread_key_create", "pthread_key_delete", "pthread_setspecific", "putc", "putc_unlocked",
    "putchar", "putchar_unlocked", "putenv", "puts", "putw", "putwc", "putwc_unlocked",
    "putwchar", "putwchar_unlocked", "pvalloc", "quick_exit", "realloc", "reallocarray",
    "rewind", "scanf", "secure_getenv", "setbuf", "setbuffer", "setenv", "setlinebuf",
    "setvbuf", "system", "tmpfile", "tmpfile64", "ungetc", "ungetwc", "unsetenv", "valloc",
    "verr", "verrx", "vfork", "vfprintf", "vfscanf", "vfwprintf", "vfwscanf", "vprintf",
    "vscanf", "vwarn", "vwarnx", "vwprintf", "vwscanf", "warn", "warnx", "wprintf", "wscanf",
};

} // namespace

bool is_shared_symbol(std::string_view name) {
	static const bool sorted = std::is_sorted(shared_symbols.begin(), shared_symbols.end());
	if (!sorted) // a mis-ordered edit of the list must not silently drop entries
		return std::find(shared_symbols.begin(), shared_symbols.end(), name) !=
		       shared_symbols.end();
	return std::binary_search(shared_symbols.begin(), shared_symbols.end(), name);
}

} // namespace gotcha
