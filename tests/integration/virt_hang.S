/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/virt_hang.S - a PVH kernel that never reports and
 * never exits: `pvio virt probe` must time out, destroy and undefine it.
 * Linked with tests/guest/guest.ld.
 */
	.section .note.pvh, "a"
	.p2align 2
	.long 4
	.long 4
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_entry

	.section .boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
1:	hlt
	jmp 1b
	.section .note.GNU-stack, "", @progbits
