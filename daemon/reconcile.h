/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* At start: compares each state record with sysfs, logs where every managed device is now, and
 * re-applies recorded grants. Records are kept (a device that went away may come back), so a
 * restarted daemon can still restore every device it moved. */
void reconcile_state(struct context *c);
