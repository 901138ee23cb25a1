/*
 * timer_entry_x86_64.S — the first instructions of the preemption signal's handler.
 *
 * The handler must learn whether one of the program's own signals (installed without
 * SA_RESTART) ran on this thread while it handled the timer: then the blocking call the timer
 * interrupted fails with EINTR instead of restarting (signals.cpp). It compares the thread's
 * count of such signals at its start and at its end. A program signal landing between the
 * handler's first instruction and the instruction that reads the count would go unseen, and
 * a compiled prologue (pushes, sanitizer checks) sits between the two. So the count is read
 * here, by the handler's first instructions, and passed on as a fourth argument; the program
 * signal's trampoline recognises a context stopped before `inger_timer_count_read` and makes
 * the call fail itself.
 *
 * void inger_on_timer(int signo, siginfo_t *info, void *context)
 *   -> inger_on_timer_body(signo, info, context, program_signals_interrupting)
 */

	.text
	.globl	inger_on_timer
	.hidden	inger_on_timer
	.type	inger_on_timer, @function
	.globl	inger_timer_count_read
	.hidden	inger_timer_count_read
	.p2align 4
inger_on_timer:
	.cfi_startproc
	/* initial-exec TLS: the variable's offset from the thread pointer, then the load. */
	movq	inger_program_signals_interrupting@gottpoff(%rip), %rcx
	movq	%fs:(%rcx), %rcx
inger_timer_count_read:
	jmp	inger_on_timer_body
	.cfi_endproc
	.size	inger_on_timer, .-inger_on_timer

	.section .note.GNU-stack,"",@progbits
