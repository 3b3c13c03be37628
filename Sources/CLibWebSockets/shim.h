// The parts of libwebsockets that Swift cannot import as they are.
#ifndef WARDEN_CLIBWEBSOCKETS_SHIM_H
#define WARDEN_CLIBWEBSOCKETS_SHIM_H
#include <libwebsockets.h>

/// Head-room lws needs in front of every buffer passed to lws_write (LWS_PRE is a function-like macro).
static inline size_t warden_lws_pre(void) { return LWS_PRE; }

/// LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT as an unsigned 64-bit value.
static inline uint64_t warden_lws_option_ssl_global_init(void) { return (uint64_t)LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; }

#endif
