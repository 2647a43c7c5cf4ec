#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include "cposix.h"

int cposix_accept4(int fd, int flags) {
    return accept4(fd, NULL, NULL, flags);
}
