/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* NULL-terminated string arrays, as sd_bus_message_read_strv() returns them. */

void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}

bool strv_contains(char *const *l, const char *s);

/* Writes "a", "a and b" or "a, b and c". */
void strv_print_joined(FILE *f, char *const *l);
