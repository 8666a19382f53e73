/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "crash-point.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CRASH_POINT_NAME(id, name) [CRASH_POINT_##id] = name,
static const char *const names[_CRASH_POINT_MAX] = { CRASH_POINTS(CRASH_POINT_NAME) };
#undef CRASH_POINT_NAME

void crash_point(enum crash_point point) {
        const char *wanted = getenv("VFIO_PASSTHROUGHD_CRASH_AT");

        if (!wanted || strcmp(wanted, names[point]) != 0)
                return;
        log_warning("Crash point %s reached: dying as VFIO_PASSTHROUGHD_CRASH_AT asks.", names[point]);
        raise(SIGKILL);
}

void crash_points_print(FILE *f) {
        for (size_t i = 0; i < _CRASH_POINT_MAX; i++)
                fprintf(f, "%s\n", names[i]);
}
