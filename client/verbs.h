/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Global options, parsed once in main.c and handed to every verb. */
struct options {
        bool json; /* --json: machine-readable output instead of text */
};

/* A verb gets its own name in argv[0] and its arguments after it, already counted against the
 * verb table in main.c. It prints its own errors and returns 0 or a negative errno, which
 * main.c turns into the exit status: -EINVAL is a usage error, -ENODEV a missing device. */
typedef int (*verb_function)(int argc, char *argv[], const struct options *options);

int verb_list(int argc, char *argv[], const struct options *options);
int verb_show(int argc, char *argv[], const struct options *options);
