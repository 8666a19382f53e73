/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "terminal.h"

#define COLUMN_GAP 2
/* One column wide: U+2026. */
#define ELLIPSIS "\u2026"
#define ELLIPSIS_WIDTH 1

struct table {
        size_t n_columns;
        struct table_shrink *shrink; /* per column; all zero: never cut */
        char **cells; /* row-major, the header row first */
        size_t n_cells;
        size_t allocated;
};

struct table *table_free(struct table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->shrink);
        free(t);
        return NULL;
}

void table_freep(struct table **t) {
        table_free(*t);
}

/* Display width, counted in code points: names from the hardware database are UTF-8, and
 * counting bytes would misalign any row holding an accented letter. */
static size_t text_width(const char *s) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        n++;
        return n;
}

/* Byte length of the longest prefix of s that is at most width code points wide. */
static size_t prefix_bytes(const char *s, size_t width) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = 0;

        for (; *p; p++) {
                if ((*p & 0xc0) != 0x80) {
                        if (n == width)
                                break;
                        n++;
                }
        }
        return (size_t) ((const char *) p - s);
}

static char *sanitized_copy(const char *text) {
        char *copy = strdup(text);

        if (!copy)
                return NULL;
        for (char *p = copy; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return copy;
}

int table_add_cell(struct table *t, const char *text) {
        char *copy;

        if (t->n_cells == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : t->n_columns * 16;
                char **cells = reallocarray(t->cells, n, sizeof(char *));
                if (!cells)
                        return -ENOMEM;
                t->cells = cells;
                t->allocated = n;
        }
        copy = sanitized_copy(text ?: "-");
        if (!copy)
                return -ENOMEM;
        t->cells[t->n_cells++] = copy;
        return 0;
}

int table_new(struct table **ret, size_t n_columns, const char *const *headers) {
        _cleanup_(table_freep) struct table *t = NULL;
        int r;

        if (n_columns == 0)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_columns = n_columns;
        t->shrink = calloc(n_columns, sizeof(struct table_shrink));
        if (!t->shrink)
                return -ENOMEM;
        for (size_t i = 0; i < n_columns; i++) {
                r = table_add_cell(t, headers[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int table_set_shrinkable(struct table *t, size_t column, struct table_shrink shrink) {
        if (column >= t->n_columns || shrink.min == 0 || (shrink.first_to > 0 && shrink.first_to < shrink.min))
                return -EINVAL;
        t->shrink[column] = shrink;
        return 0;
}

/* Narrows the widest column that may still give, one step at a time, until the row fits or
 * nothing can give any more: first each column down to its first_to, then down to its min.
 * Spreading the cut keeps every column as readable as possible. */
static void fit_widths(const struct table *t, size_t *widths, size_t limit) {
        size_t total = 0;

        for (size_t c = 0; c < t->n_columns; c++)
                total += widths[c] + (c > 0 ? COLUMN_GAP : 0);

        for (int pass = 0; pass < 2 && total > limit; pass++)
                while (total > limit) {
                        size_t widest = t->n_columns;

                        for (size_t c = 0; c < t->n_columns; c++) {
                                size_t floor = pass == 0 ? t->shrink[c].first_to : t->shrink[c].min;

                                if (floor > 0 && widths[c] > floor &&
                                    (widest == t->n_columns || widths[c] > widths[widest]))
                                        widest = c;
                        }
                        if (widest == t->n_columns)
                                break;
                        widths[widest]--;
                        total--;
                }
}

static void print_cell(FILE *f, const char *text, size_t width, bool last) {
        size_t w = text_width(text);

        if (w > width) {
                size_t keep = width > ELLIPSIS_WIDTH ? width - ELLIPSIS_WIDTH : 0;
                fprintf(f, "%.*s%s", (int) prefix_bytes(text, keep), text, ELLIPSIS);
                return;
        }
        fputs(text, f);
        /* No padding after the last column: trailing blanks only get in the way of grep and diff. */
        if (!last)
                fprintf(f, "%*s", (int) (width - w), "");
}

int table_print(const struct table *t, FILE *f, unsigned indent, size_t limit, bool colors) {
        _cleanup_(freep) size_t *widths = NULL;

        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = text_width(t->cells[i]);
                if (w > widths[i % t->n_columns])
                        widths[i % t->n_columns] = w;
        }

        if (limit > indent)
                fit_widths(t, widths, limit - indent);

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;
                bool last = c == t->n_columns - 1 || i == t->n_cells - 1;

                bool header = i < t->n_columns;

                if (c == 0)
                        fprintf(f, "%*s%s", (int) indent, "", header && colors ? ANSI_BOLD : "");
                else
                        fprintf(f, "%*s", COLUMN_GAP, "");
                print_cell(f, t->cells[i], widths[c], last);
                if (last)
                        fputs(header && colors ? ANSI_RESET "\n" : "\n", f);
        }
        return ferror(f) ? -EIO : 0;
}
