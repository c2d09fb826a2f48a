/* SPDX-License-Identifier: MIT */
#ifndef PK_RTRING_H
#define PK_RTRING_H

#include <stdatomic.h>
#include <stddef.h>

/*
 * A single-producer single-consumer ring of fixed-size elements for a
 * real-time thread: all memory is allocated by pk_rtring_init(), push and
 * pop never allocate, block, lock or make a system call. The capacity is a
 * power of two; head and tail count forever (wrapping is harmless) and are
 * published with release stores and read with acquire loads, so the
 * consumer sees an element's bytes before it sees the new head.
 *
 * A push into a full ring fails and is counted in `dropped`: the producer
 * never waits for the consumer.
 */
/* A lock-based emulation of the atomics would break the promise above. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "pk_rtring needs lock-free atomics");

struct pk_rtring {
	_Alignas(64) atomic_size_t head;	/* written by the producer */
	_Alignas(64) atomic_size_t tail;	/* written by the consumer */
	_Alignas(64) atomic_ulong dropped;	/* pushes refused (ring full) */
	size_t mask;
	size_t elsize;
	unsigned char *buf;
};

/* capacity is rounded up to a power of two (at least 2). 0, or -1 (ENOMEM). */
int pk_rtring_init(struct pk_rtring *r, size_t capacity, size_t elsize);
void pk_rtring_release(struct pk_rtring *r);
/* Producer: copy one element in. 0, or -1 if the ring is full. */
int pk_rtring_push(struct pk_rtring *r, const void *el);
/* Consumer: copy one element out. 0, or -1 if the ring is empty. */
int pk_rtring_pop(struct pk_rtring *r, void *el);
size_t pk_rtring_capacity(const struct pk_rtring *r);
unsigned long pk_rtring_dropped(struct pk_rtring *r);

#endif
