/*
 * test-tool.c: drives engine modules from shell scripts.
 *
 *   test-tool reorder          read sequence numbers (one per line) in the
 *                              order jobs finish; print them in the order
 *                              the reorder buffer hands them out
 *   test-tool quote STR...     print each STR quoted as one shell word
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reorder.h"
#include "template.h"

static int
cmd_reorder(void)
{
	struct reorder r;
	unsigned long long seq;

	reorder_init(&r, 1);
	while (scanf("%llu", &seq) == 1) {
		void *item;
		if (seq < r.head) {
			fprintf(stderr, "test-tool: %llu is already out\n", seq);
			return 1;
		}
		reorder_put(&r, seq, (void *)(uintptr_t)seq);
		while ((item = reorder_pop(&r)) != NULL)
			printf("%llu\n", (unsigned long long)(uintptr_t)item);
	}
	printf("held %zu\n", r.count);
	reorder_release(&r);
	return 0;
}

static int
cmd_quote(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct strbuf sb = STRBUF_INIT;
		shell_quote(&sb, argv[i], strlen(argv[i]));
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "reorder"))
		return cmd_reorder();
	if (argc >= 2 && !strcmp(argv[1], "quote"))
		return cmd_quote(argc - 2, argv + 2);
	fprintf(stderr, "usage: test-tool reorder | quote STR...\n");
	return 2;
}
