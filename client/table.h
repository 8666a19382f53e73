/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A text table whose column widths follow its content, printed with a header row. When the
 * output is a terminal, columns marked shrinkable are cut (with "...") so rows fit its width;
 * anywhere else nothing is cut, so scripts and pipes always see the whole text. */
struct table;

/* Creates a table with the given column headers. */
int table_new(struct table **ret, size_t n_columns, const char *const *headers);
struct table *table_free(struct table *t);
void table_freep(struct table **t);

/* Lets a column be cut to fit the terminal. */
int table_set_shrinkable(struct table *t, size_t column, bool shrinkable);

/* Fills the next cell, left to right, top to bottom; a full row starts a new one. The text is
 * copied, with control characters replaced by '?': it comes from another process and must not
 * drive the terminal. NULL stands for "-". */
int table_add_cell(struct table *t, const char *text);

/* Prints the header and the rows, each line preceded by indent spaces. Returns 0 or -EIO. */
int table_print(const struct table *t, FILE *f, unsigned indent);
