/* SPDX-License-Identifier: MIT */
#include "pk_rtring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
pk_rtring_init(struct pk_rtring *r, size_t capacity, size_t elsize)
{
	size_t cap = 2;

	memset(r, 0, sizeof(*r));
	if (elsize == 0 || capacity > ((size_t)-1 >> 2) / elsize) {
		errno = EINVAL;
		return -1;
	}
	while (cap < capacity)
		cap <<= 1;
	r->buf = calloc(cap, elsize);
	if (r->buf == NULL)
		return -1;
	r->mask = cap - 1;
	r->elsize = elsize;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->dropped, 0);
	return 0;
}

void
pk_rtring_release(struct pk_rtring *r)
{
	free(r->buf);
	r->buf = NULL;
}

int
pk_rtring_push(struct pk_rtring *r, const void *el)
{
	size_t head, tail;

	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head - tail > r->mask) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return -1;
	}
	memcpy(r->buf + (head & r->mask) * r->elsize, el, r->elsize);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

int
pk_rtring_pop(struct pk_rtring *r, void *el)
{
	size_t head, tail;

	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (head == tail)
		return -1;
	memcpy(el, r->buf + (tail & r->mask) * r->elsize, r->elsize);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

size_t
pk_rtring_capacity(const struct pk_rtring *r)
{
	return r->mask + 1;
}

unsigned long
pk_rtring_dropped(struct pk_rtring *r)
{
	return atomic_load_explicit(&r->dropped, memory_order_relaxed);
}
