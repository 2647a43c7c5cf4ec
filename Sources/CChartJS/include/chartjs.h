#ifndef LUALOAD_CHARTJS_H
#define LUALOAD_CHARTJS_H
#include <stddef.h>

/// Chart.js (Debian's libjs-chart.js, /usr/share/javascript/chart.js/chart.min.js), assembled into the binary
/// at build time so the --web page and the HTML report draw their charts offline, with no CDN and no copy of
/// the file in git. Returns its bytes; *length gets their count.
const unsigned char *luaload_chartjs(size_t *length);

#endif
