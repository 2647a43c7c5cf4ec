// Linux headers that Swift's Glibc module does not bring in.
#ifndef CPOSIX_H
#define CPOSIX_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <netinet/tcp.h>
#endif
