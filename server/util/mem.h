/*
 * Allocation with one policy: running out of memory aborts the process.
 *
 * A daemon that half-handles allocation failure corrupts more than it
 * saves; the supervisor restarts us and nothing acknowledged is lost,
 * because every acknowledgement follows a COMMIT. jansson is routed
 * through the same functions (mem_init) so the policy holds everywhere.
 */
#ifndef CIVCAS_MEM_H
#define CIVCAS_MEM_H

#include <stddef.h>

void mem_init(void);
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
