// CHTTPScan is all static inline functions in include/httpscan.h. It is a C target rather than a system library
// because SwiftPM rebuilds a target's dependents when its headers change, and does not for a system library's:
// an edited scan would otherwise go on running the old code. A C target needs a source file: this one.
#include "httpscan.h"
