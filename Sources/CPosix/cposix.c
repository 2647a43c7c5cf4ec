#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cposix.h"

int cposix_accept4(int fd, int flags) {
    return accept4(fd, NULL, NULL, flags);
}

/* The request path's calls as bare syscalls. glibc's send, read and epoll_wait are thread-cancellation
   points: each call switches the thread to asynchronous cancellation and back (~45 instructions each way),
   for pthread_cancel, which luaload never uses. */
long cposix_send(int fd, const void *buf, size_t len, int flags) {
    return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

long cposix_read(int fd, void *buf, size_t len) {
    return syscall(SYS_read, fd, buf, len);
}

int cposix_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    return (int)syscall(SYS_epoll_wait, epfd, events, max, timeout);
}
