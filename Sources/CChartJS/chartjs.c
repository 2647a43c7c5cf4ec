#include "chartjs.h"

// .incbin reads the file when this unit is assembled: a build on a machine without libjs-chart.js fails here
// naming the path (scripts/install-deps.sh installs it). The bytes live in .rodata, mapped only when read.
__asm__(
    ".section .rodata\n"
    ".balign 16\n"
    "luaload_chartjs_start:\n"
    ".incbin \"/usr/share/javascript/chart.js/chart.min.js\"\n"
    "luaload_chartjs_end:\n"
    ".byte 0\n"
    ".previous\n");

extern const unsigned char luaload_chartjs_start[];
extern const unsigned char luaload_chartjs_end[];

const unsigned char *luaload_chartjs(size_t *length) {
    *length = (size_t)(luaload_chartjs_end - luaload_chartjs_start);
    return luaload_chartjs_start;
}
