/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "pci-address.h"

/* A sysfs write can outlive the daemon: an unbind from vfio-pci waits in the kernel until the
 * program using the device lets go, and no signal ends that wait. The write is therefore made by
 * a child process (sysfs-write.h) that holds the device's kernel lock — a file under the state
 * directory, locked with flock(2) — until the kernel returns. The kernel drops the lock when that
 * process ends, however the daemon ended; the next start sees it held and keeps its hands off the
 * device (and off its driver_override, which the kernel would make it wait for) until it is free. */

/* Opens the device's lock and takes it shared: every process that inherits the descriptor holds
 * it. Returns the descriptor or a negative errno. */
int kernel_lock_take(const char *state_dir, const struct pci_address *address);

/* Whether a writer still holds the device's lock: 1 when it does, 0 when it is free or was never
 * taken, negative errno when that cannot be told. Never waits. */
int kernel_lock_held(const char *state_dir, const struct pci_address *address);

/* Waits until no writer holds the device's lock. For the worker threads: the wait is a blocking
 * flock, which the process exit ends. */
int kernel_lock_wait(const char *state_dir, const struct pci_address *address);
