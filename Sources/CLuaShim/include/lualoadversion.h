// luaload's version, one place for the CLI (--version), the default User-Agent and the JSON report.
#ifndef LUALOADVERSION_H
#define LUALOADVERSION_H
#define LUALOAD_VERSION "0.2.0"
#endif
