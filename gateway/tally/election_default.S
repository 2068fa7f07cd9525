/*
 * The sample 2024-like election definition, embedded so that tallyctl
 * and the demo work without any file: election_default() parses it.
 */
	.section .rodata
	.global	election_default_text
	.global	election_default_end
	.balign	16
election_default_text:
	.incbin	ELECTION_FILE
election_default_end:
	.byte	0
	.section .note.GNU-stack,"",%progbits
