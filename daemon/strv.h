/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* NULL-terminated string lists, as sd-bus reads and appends them ("as"). */
int strv_push(char ***list, const char *value);
bool strv_contains(char **list, const char *value);
char **strv_free(char **list);
void strv_freep(char ***list);
