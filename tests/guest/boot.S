/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/boot.S - entry of pvio's probe guest.
 *
 * QEMU (q35 and microvm) loads the ELF with -kernel and enters it through
 * the PVH ELF note: 32-bit protected mode, paging off, %ebx = physical
 * address of struct hvm_start_info.  We build page tables that identity-map
 * the first 512 GiB with 1 GiB pages (enough for RAM, the 32-bit MMIO hole
 * and the 64-bit PCI window), enable long mode, and call guest_main(info).
 */
	.section .note.pvh, "a"
	.p2align 2
	.long 4                 /* name size ("Xen\0") */
	.long 4                 /* descriptor size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_entry

	.section .boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	movl %ebx, %esi                 /* keep start_info */
	movl $boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[i] = i GiB, present|write|huge */
	movl $pdpt, %eax
	orl $0x3, %eax
	movl %eax, pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $30, %eax                  /* low 32 bits of i << 30 */
	orl $0x83, %eax
	movl %eax, pdpt(, %ecx, 8)
	movl %ecx, %eax
	shrl $2, %eax                   /* high bits: i >> 2 */
	movl %eax, pdpt + 4(, %ecx, 8)
	incl %ecx
	cmpl $512, %ecx
	jne 1b

	movl %cr4, %eax
	orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax  /* PAE, OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* EFER */
	rdmsr
	orl $(1 << 8), %eax             /* LME */
	wrmsr
	movl %cr0, %eax
	andl $~(1 << 2), %eax           /* EM off */
	orl $((1 << 31) | (1 << 1) | 1), %eax  /* PG, MP, PE */
	movl %eax, %cr0
	lgdt gdt_desc
	ljmp $0x08, $long_mode

	.code64
long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	movl %esi, %edi                 /* guest_main(start_info) */
	call guest_main
2:	hlt
	jmp 2b

	.section .rodata
	.p2align 3
gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff        /* 0x10: data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.p2align 12
pml4:	.skip 4096
pdpt:	.skip 4096
	.p2align 4
boot_stack:
	.skip 65536
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
