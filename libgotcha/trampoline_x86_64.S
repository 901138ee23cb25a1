// trampoline_x86_64.S — the template of the trampoline every routed GOT entry points to.
//
// A program's call into a library goes through its GOT. libgotcha points that entry at a
// trampoline for the symbol, numbered i, which looks the target up in the table of the
// calling thread's current libset:
//
//     table = *(%fs:current_table)     the thread's current table (initial-exec TLS)
//     jmp   *table[i]                  the symbol's address in that libset
//
// Only %r11 is used: it is the one scratch register the calling convention leaves free
// at a call (the PLT uses it the same way). Argument registers, %rax (the vector register
// count of variadic calls) and the stack are untouched, so the callee sees exactly the
// call the program made and returns straight to it: no frame, nothing to unwind.
//
// trampolines.cpp copies the bytes between gotcha_trampoline_template and _end once per
// symbol and patches the two 32-bit displacements, whose positions the _tls and _index
// labels give (each just after its displacement field).
	.section .rodata
	.globl gotcha_trampoline_template, gotcha_trampoline_tls
	.globl gotcha_trampoline_index, gotcha_trampoline_end
	.hidden gotcha_trampoline_template, gotcha_trampoline_tls
	.hidden gotcha_trampoline_index, gotcha_trampoline_end
gotcha_trampoline_template:
	movq %fs:0x7fffffff, %r11       // displacement: the TLS offset of the current table
gotcha_trampoline_tls:
	jmpq *0x7fffffff(%r11)          // displacement: 8 * the symbol's index
gotcha_trampoline_index:
gotcha_trampoline_end:

// dlopen() and dlmopen() as the program calls them. Its GOT entries for these two point
// here: count the call, so that libgotcha relinks the objects it loads before the next
// libset is handed out, then jump to the real function. A jump, not a call: dlopen uses its
// return address to find the caller (for $ORIGIN, RUNPATH and the namespace), which must
// stay the program's.
	.text
	.globl gotcha_dlopen_stub, gotcha_dlmopen_stub
	.hidden gotcha_dlopen_stub, gotcha_dlmopen_stub
gotcha_dlopen_stub:
	lock incq gotcha_dlopen_count(%rip)
	jmpq *gotcha_real_dlopen(%rip)
gotcha_dlmopen_stub:
	lock incq gotcha_dlopen_count(%rip)
	jmpq *gotcha_real_dlmopen(%rip)

	.section .note.GNU-stack,"",@progbits
