/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "terminal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Wider than any real terminal: a larger COLUMNS is a mistake, not a width. */
#define COLUMNS_MAX 10000

static size_t columns_from_env(void) {
        const char *text = getenv("COLUMNS");
        char *end;
        long n;

        if (!text || !*text)
                return 0;
        errno = 0;
        n = strtol(text, &end, 10);
        if (errno != 0 || *end != '\0' || n <= 0 || n > COLUMNS_MAX)
                return 0;
        return (size_t) n;
}

size_t terminal_columns(void) {
        struct winsize ws = {};
        size_t n = columns_from_env();

        if (n > 0)
                return n;
        if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 0;
}

bool terminal_colors(void) {
        const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

        if (no_color && *no_color)
                return false;
        if (!term || !*term || strcmp(term, "dumb") == 0)
                return false;
        return isatty(STDOUT_FILENO);
}
