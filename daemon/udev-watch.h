/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* Watches udev for PCI devices that appear, go away, or change driver — whoever made the change —
 * and turns each into a DeviceChanged signal. */
int udev_watch_start(struct context *c);
