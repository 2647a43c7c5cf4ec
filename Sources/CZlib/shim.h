#include <zlib.h>

// inflateInit2 is a macro (it passes the library's version and struct size): wrapped for Swift.
static inline int czlib_inflate_init2(z_streamp strm, int window_bits) {
    return inflateInit2(strm, window_bits);
}
