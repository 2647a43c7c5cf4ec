// Linux headers that Swift's Glibc module does not bring in.
#ifndef CPOSIX_H
#define CPOSIX_H
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <netinet/tcp.h>
#include <malloc.h>
#include <sys/ioctl.h>

// The width of the terminal on `fd` in columns (TIOCGWINSZ), 0 when it is not a terminal or does not say.
static inline int cposix_terminal_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
    return ws.ws_col;
}

// Single-writer counters that other threads may read at any time (the serve stats):
// the owner bumps with a plain load + release store (no lock prefix), readers load with acquire.
static inline void cposix_counter_bump(uint64_t *p) {
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}
static inline uint64_t cposix_counter_load(const uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

// accept4 needs _GNU_SOURCE, which Swift's Glibc module does not define: wrapped in cposix.c.
int cposix_accept4(int fd, int flags);

// send (MSG_NOSIGNAL et al.), read and epoll_wait without glibc's thread-cancellation bracket (see cposix.c):
// -1 with errno set on failure, as the libc calls.
long cposix_send(int fd, const void *buf, size_t len, int flags);
long cposix_read(int fd, void *buf, size_t len);
int cposix_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout);

// Bytes the heap has handed out and not had back (glibc's mallinfo2): tests measure what a structure keeps.
static inline size_t cposix_heap_in_use(void) { return mallinfo2().uordblks; }
#endif
