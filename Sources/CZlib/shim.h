// zlib's init functions are macros over inflateInit_/deflateInit_; Swift needs real functions.
#ifndef WARDEN_CZLIB_SHIM_H
#define WARDEN_CZLIB_SHIM_H
#include <zlib.h>

static inline int warden_inflateInit(z_streamp s) { return inflateInit(s); }
static inline int warden_deflateInit(z_streamp s, int level) { return deflateInit(s, level); }

#endif
