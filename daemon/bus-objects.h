/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* The object model desktop apps bind to: /org/vfio/Passthrough1 is an ObjectManager, with one
 * org.vfio.Passthrough1.Device object per PCI function below .../devices and one
 * org.vfio.Passthrough1.Group object per IOMMU group below .../groups. Their properties come from
 * the device model (device-model.h), which announces every change; the Device object's methods
 * are the manager's privileged methods on that one device, with an options dictionary. */
int bus_objects_register(struct context *c);
void bus_objects_unregister(struct context *c);
