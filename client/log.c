/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "json.h"

#define PROGRAM "vfio-passthroughctl"

/* The client's one piece of process-wide state: the first error, for the --json error object.
 * Errors are logged deep in the bus code, which has no reason to carry the options around. */
static struct {
        char *name;
        char *message;
        bool logged;
} first_error;

void log_error_hint(const char *name, const char *hint, const char *format, ...) {
        char *message = NULL;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&message, format, ap);
        va_end(ap);
        if (n < 0)
                message = NULL;

        fprintf(stderr, PROGRAM ": %s%s%s\n", message ?: format, hint ? " " : "", hint ?: "");

        if (first_error.logged) {
                free(message);
                return;
        }
        first_error.logged = true;
        first_error.name = name ? strdup(name) : NULL;
        first_error.message = message;
}

int log_write_json_error(FILE *f, int fallback_errno, int exit_status) {
        _cleanup_(sd_bus_error_free) sd_bus_error fallback = SD_BUS_ERROR_NULL;
        const char *name = first_error.name, *message = first_error.message;
        struct json_writer w;

        /* sd-bus knows a D-Bus error name for every errno: IOError for -EIO, NoMemory, ... */
        if (!name || !message)
                (void) sd_bus_error_set_errno(&fallback, fallback_errno < 0 ? -fallback_errno : EIO);
        if (!name)
                name = fallback.name ?: SD_BUS_ERROR_FAILED;
        if (!message)
                message = fallback.message ?: strerror(fallback_errno < 0 ? -fallback_errno : EIO);

        json_writer_init_compact(&w, f);
        json_begin_object(&w);
        json_key(&w, "error");
        json_string(&w, name);
        json_key(&w, "message");
        json_string(&w, message);
        json_key(&w, "exit_status");
        json_int(&w, exit_status);
        json_end_object(&w);
        return json_writer_finish(&w);
}
