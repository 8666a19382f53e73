/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strv.h"

#include <stdlib.h>
#include <string.h>

void strv_free(char **l) {
        if (!l)
                return;
        for (char **s = l; *s; s++)
                free(*s);
        free(l);
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

void strv_print_joined(FILE *f, char *const *l) {
        for (size_t i = 0; l && l[i]; i++)
                fprintf(f, "%s%s", i == 0 ? "" : l[i + 1] ? ", " : " and ", l[i]);
}
