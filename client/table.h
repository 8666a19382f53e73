/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A text table whose column widths follow its content, printed with a header row. Given a width
 * (the terminal's, see terminal.h), columns marked shrinkable are cut (with "…") so rows fit it;
 * without one nothing is cut, so scripts and pipes always see the whole text. */
struct table;

/* Creates a table with the given column headers. */
int table_new(struct table **ret, size_t n_columns, const char *const *headers);
struct table *table_free(struct table *t);
void table_freep(struct table **t);

/* How far a column may be cut to fit the terminal: first, together with the other columns,
 * down to first_to (0: not in this first round), and only when that is not enough, down to min,
 * the narrowest it stays recognizable at. Rows that do not fit even then are wider. */
struct table_shrink {
        size_t first_to;
        size_t min;
};
int table_set_shrinkable(struct table *t, size_t column, struct table_shrink shrink);

/* Fills the next cell, left to right, top to bottom; a full row starts a new one. The text is
 * copied, with control characters replaced by '?': it comes from another process and must not
 * drive the terminal. NULL stands for "-". */
int table_add_cell(struct table *t, const char *text);

/* Prints the header (in bold with colors) and the rows, each line preceded by indent spaces and
 * at most width columns wide as far as the shrinkable columns can give (0: no limit). Returns 0
 * or -EIO. */
int table_print(const struct table *t, FILE *f, unsigned indent, size_t width, bool colors);
