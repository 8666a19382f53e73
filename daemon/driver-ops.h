/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "operation.h"

/* The kernel sequences behind Detach, Attach and Restore. They run on a worker thread, do sysfs
 * I/O and wait; they fill the operation's outputs and return 0 or a negative errno (with the
 * operation's named error set). Every device ends in a defined state: the step completed, or it
 * was rolled back to the driver it came from. */
int driver_ops_detach(struct operation *op);
int driver_ops_attach(struct operation *op);
int driver_ops_restore(struct operation *op);
/* Drops the device's record (also one that cannot be read), taking its grant back when it can be
 * read; the device stays as it is. */
int driver_ops_forget(struct operation *op);
