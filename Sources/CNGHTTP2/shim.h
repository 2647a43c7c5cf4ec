// libnghttp2 (Debian's libnghttp2-dev): HTTP/2 framing, HPACK and flow control for the engine's HTTP/2 session.
#include <nghttp2/nghttp2.h>
