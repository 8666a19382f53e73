/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"

#define COLUMN_GAP 2
#define ELLIPSIS "..."
/* A shrinkable column is never cut below this, so it stays recognizable on narrow terminals;
 * rows then wrap instead. */
#define SHRINK_MIN_WIDTH 12

struct table {
        size_t n_columns;
        bool *shrinkable;
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
        free(t->shrinkable);
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
        t->shrinkable = calloc(n_columns, sizeof(bool));
        if (!t->shrinkable)
                return -ENOMEM;
        for (size_t i = 0; i < n_columns; i++) {
                r = table_add_cell(t, headers[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int table_set_shrinkable(struct table *t, size_t column, bool shrinkable) {
        if (column >= t->n_columns)
                return -EINVAL;
        t->shrinkable[column] = shrinkable;
        return 0;
}

/* The width to fit into, or 0 for "do not cut": only a terminal has one. */
static size_t output_width(FILE *f) {
        struct winsize ws = {};
        const char *columns;

        if (!isatty(fileno(f)))
                return 0;
        if (ioctl(fileno(f), TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        columns = getenv("COLUMNS");
        if (columns) {
                long n = strtol(columns, NULL, 10);
                if (n > 0)
                        return (size_t) n;
        }
        return 80;
}

/* Narrows the widest shrinkable column, one step at a time, until the row fits or nothing can
 * give any more. Spreading the cut keeps every shrinkable column as readable as possible. */
static void fit_widths(const struct table *t, size_t *widths, size_t limit) {
        size_t total = 0;

        for (size_t c = 0; c < t->n_columns; c++)
                total += widths[c] + (c > 0 ? COLUMN_GAP : 0);

        while (total > limit) {
                size_t widest = t->n_columns;

                for (size_t c = 0; c < t->n_columns; c++)
                        if (t->shrinkable[c] && widths[c] > SHRINK_MIN_WIDTH &&
                            (widest == t->n_columns || widths[c] > widths[widest]))
                                widest = c;
                if (widest == t->n_columns)
                        return;
                widths[widest]--;
                total--;
        }
}

static void print_cell(FILE *f, const char *text, size_t width, bool last) {
        size_t w = text_width(text);

        if (w > width) {
                size_t keep = width > strlen(ELLIPSIS) ? width - strlen(ELLIPSIS) : 0;
                fprintf(f, "%.*s%s", (int) prefix_bytes(text, keep), text, ELLIPSIS);
                return;
        }
        fputs(text, f);
        /* No padding after the last column: trailing blanks only get in the way of grep and diff. */
        if (!last)
                fprintf(f, "%*s", (int) (width - w), "");
}

int table_print(const struct table *t, FILE *f, unsigned indent) {
        _cleanup_(freep) size_t *widths = NULL;
        size_t limit;

        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = text_width(t->cells[i]);
                if (w > widths[i % t->n_columns])
                        widths[i % t->n_columns] = w;
        }

        limit = output_width(f);
        if (limit > indent)
                fit_widths(t, widths, limit - indent);

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;
                bool last = c == t->n_columns - 1 || i == t->n_cells - 1;

                if (c == 0)
                        fprintf(f, "%*s", (int) indent, "");
                else
                        fprintf(f, "%*s", COLUMN_GAP, "");
                print_cell(f, t->cells[i], widths[c], last);
                if (last)
                        fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}
