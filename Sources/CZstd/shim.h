#ifndef TRACEBOX_CZSTD_SHIM_H
#define TRACEBOX_CZSTD_SHIM_H
#include <zstd.h>
#include <zdict.h>
#endif
