/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What the output may assume about where it goes, decided once, before a pager takes stdout. */

/* The width to fit tables into: COLUMNS when it holds a positive number (also for a pipe: the
 * caller asked for it), else the terminal's width when stdout is one, else 0: do not cut. */
size_t terminal_columns(void);

/* Whether to colour: stdout is a terminal, NO_COLOR is unset or empty (no-color.org), and TERM
 * names a terminal that is not "dumb". */
bool terminal_colors(void);

/* SGR sequences, or "" without colours. */
#define ANSI_BOLD "\033[1m"
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_RESET "\033[0m"
