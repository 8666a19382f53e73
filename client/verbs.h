/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Options, parsed once in main.c and handed to every verb. */
struct options {
        bool json;                /* --json: machine-readable output instead of text */
        bool ask_password;        /* false with --no-ask-password */
        bool pager;               /* false with --no-pager */
        bool quiet;               /* -q: the commands that change devices print nothing on success */
        size_t columns;           /* the width to fit tables into, 0: no limit (see terminal.h) */
        bool colors;              /* whether text output may use colours */
        uint64_t operation_flags; /* VFIO_PT_FLAG_FORCE, VFIO_PT_FLAG_GROUP; main.c rejects them on
                                   * verbs that do not take them */
};

/* A verb gets its own name in argv[0] and its arguments after it, already counted against the
 * verb table in main.c. It prints its own errors and returns 0 or a negative errno, which
 * main.c turns into the exit status (see exit-status.h): -EINVAL is a usage error, -ENODEV a
 * missing device, -EACCES a refusal, and so on. */
typedef int (*verb_function)(int argc, char *argv[], const struct options *options);

int verb_list(int argc, char *argv[], const struct options *options);
int verb_show(int argc, char *argv[], const struct options *options);
int verb_detach(int argc, char *argv[], const struct options *options);
int verb_attach(int argc, char *argv[], const struct options *options);
int verb_restore(int argc, char *argv[], const struct options *options);
int verb_grant(int argc, char *argv[], const struct options *options);
int verb_forget(int argc, char *argv[], const struct options *options);
int verb_monitor(int argc, char *argv[], const struct options *options);
