/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "crash-point.h"
#include "operation.h"
#include "pci-device.h"
#include "state.h"
#include "targets.h"

/* The steps Detach, Attach and Restore share (driver-ops.h has the operations themselves): which
 * devices a call acts on, the refusal of a device the host uses, and taking a device from its
 * driver with an intent on disk, then committing or rolling back what the call moved. */

#define VFIO_PCI "vfio-pci"

/* The devices the call acts on (targets.h), each of which its caller must have been authorized
 * for: the group may have changed while polkit was asked. */
int load_targets(struct operation *op, struct targets *ret);

/* Checks every device before any is touched, against one reading of what the host uses. */
int refuse_if_host_uses_any(struct operation *op, struct pci_device *const *devices, size_t n, const char *verb);

/* The crash points of the steps Attach and Detach share. */
struct take_steps {
        enum record_intent intent;
        enum crash_point recorded, override_set, unbound;
};
extern const struct take_steps attach_steps, detach_steps;

/* Record (with the intent), pin to vfio-pci with driver_override, unbind; each device read and
 * checked again right before. Adds the device to op->moved. */
int take_from_driver(struct operation *op, const struct pci_device *seen, const struct take_steps *steps,
                     const char *verb);

/* Clears the intents of a call that went through: its devices stay where it put them. */
int commit_moved(struct operation *op, char **moved);

/* Undoes this call's moves after a failure: each device goes back to its recorded driver. */
void roll_back(struct operation *op, char **moved);
