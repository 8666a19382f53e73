/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The exit statuses vfio-passthroughctl promises scripts; vfio-passthroughctl(1) documents them.
 * Modelled on systemctl's: 2 for bad usage, 4 for "no such thing". */
enum {
        EXIT_STATUS_OK = 0,
        EXIT_STATUS_FAILED = 1,         /* the daemon, the bus or the output failed */
        EXIT_STATUS_USAGE = 2,          /* bad command line, including a malformed PCI address */
        EXIT_STATUS_NO_SUCH_DEVICE = 4, /* well-formed address, but no device there */
};
