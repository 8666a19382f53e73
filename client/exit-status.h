/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The exit statuses vfio-passthroughctl promises scripts; vfio-passthroughctl(1) documents them.
 * Modelled on systemctl's: 2 for bad usage, 4 for "no such thing". main.c maps the verbs'
 * negative errno values onto them. */
enum {
        EXIT_STATUS_OK = 0,
        EXIT_STATUS_FAILED = 1,         /* the daemon, the bus or the output failed */
        EXIT_STATUS_USAGE = 2,          /* bad command line, including a malformed PCI address */
        EXIT_STATUS_ACCESS_DENIED = 3,  /* the caller may not do this (or did not authenticate) */
        EXIT_STATUS_NO_SUCH_DEVICE = 4, /* well-formed address, but no device there */
        EXIT_STATUS_NOT_POSSIBLE = 5,   /* the device's state forbids it: busy, group not viable,
                                         * not on vfio-pci, not managed by the daemon */
        EXIT_STATUS_TIMEOUT = 6,        /* the operation did not finish in time */
};
