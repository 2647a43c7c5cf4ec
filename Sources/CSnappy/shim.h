// Debian's libsnappy-dev: the C API of Google's snappy (block format), for Prometheus remote write.
#include <snappy-c.h>
