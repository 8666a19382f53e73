/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void log_write(int priority, int error, const char *format, va_list ap) {
        char line[2048];
        int saved_errno = errno;

        if (priority == LOG_DEBUG && !getenv("VFIO_PASSTHROUGHD_DEBUG"))
                return;

        vsnprintf(line, sizeof(line), format, ap);

        if (getenv("JOURNAL_STREAM") || !isatty(STDERR_FILENO))
                fprintf(stderr, "<%d>", priority);
        if (error)
                fprintf(stderr, "%s: %s\n", line, strerror(abs(error)));
        else
                fprintf(stderr, "%s\n", line);
        errno = saved_errno;
}

void log_full(int priority, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        log_write(priority, 0, format, ap);
        va_end(ap);
}

int log_full_errno(int priority, int error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        log_write(priority, error, format, ap);
        va_end(ap);
        return error < 0 ? error : -error;
}
