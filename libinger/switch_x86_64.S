/*
 * switch_x86_64.S — the only context switch in libinger (x86-64 System V).
 *
 * A context at rest is a stack pointer. The words at that address, lowest first:
 *
 *     +0   MXCSR (4 bytes) | x87 control word (2 bytes) | padding (2 bytes)
 *     +8   r15
 *     +16  r14
 *     +24  r13
 *     +32  r12
 *     +40  rbx
 *     +48  rbp
 *     +56  return address (where the context continues)
 *
 * Only callee-saved state is kept: inger_switch is an ordinary call, so the compiler has
 * already spilled every caller-saved register at the call site. The MXCSR and x87 control
 * words are callee-saved under the ABI (rounding modes, exception masks), so they go too.
 * Full register state of a function *preempted* by a signal is not kept here: the kernel's
 * signal frame holds it, and the handler that called inger_switch restores it by returning.
 */

	.text

/* void inger_switch(void **save_sp, void *load_sp)
 * Suspend the current context, storing it in *save_sp, and continue the one at load_sp. */
	.globl	inger_switch
	.hidden	inger_switch
	.type	inger_switch, @function
	.p2align 4
inger_switch:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)

	movq	%rsp, (%rdi)		/* the old context is complete: publish it */
	movq	%rsi, %rsp		/* from here on we are on the new context's stack */

	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	/* Not ret: the return-stack predictor holds our caller's return address, but we continue
	 * the other context's, so a ret would be mispredicted on every switch. An indirect jump is
	 * predicted from its own history instead (the bare round trip in inger-bench halves).
	 * rcx is caller-saved: inger_switch is an ordinary call. */
	popq	%rcx
	jmpq	*%rcx
	.cfi_endproc
	.size	inger_switch, .-inger_switch

/* First code run on a new function's stack: inger_switch "returns" here from the frame that
 * inger_initial_frame() built, with the function record in rbx and rsp 16-byte aligned.
 * inger_function_main never returns (a finished function switches away for good). The
 * undefined return address tells unwinders (C++ exceptions, gdb, libunwind) that the
 * function's stack ends here. */
	.globl	inger_entry
	.hidden	inger_entry
	.type	inger_entry, @function
	.p2align 4
inger_entry:
	.cfi_startproc
	.cfi_undefined rip
	movq	%rbx, %rdi
	call	inger_function_main
	ud2
	.cfi_endproc
	.size	inger_entry, .-inger_entry

	.section .note.GNU-stack, "", @progbits
