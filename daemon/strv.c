/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strv_push(char ***list, const char *value) {
        size_t n = 0;
        char **l, *copy;

        while (*list && (*list)[n])
                n++;
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        l = reallocarray(*list, n + 2, sizeof(char *));
        if (!l) {
                free(copy);
                return -ENOMEM;
        }
        l[n] = copy;
        l[n + 1] = NULL;
        *list = l;
        return 0;
}

bool strv_contains(char **list, const char *value) {
        for (char **s = list; s && *s; s++)
                if (strcmp(*s, value) == 0)
                        return true;
        return false;
}

char **strv_free(char **list) {
        for (char **s = list; s && *s; s++)
                free(*s);
        free(list);
        return NULL;
}

void strv_freep(char ***list) {
        strv_free(*list);
}
