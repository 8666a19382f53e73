/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Detach: take the device (with --group, every member) from its host driver and keep it for
 * vfio-pci, all or nothing. */
#include "driver-ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-moves.h"
#include "strv.h"

int driver_ops_detach(struct operation *op) {
        _cleanup_(targets_done) struct targets t = {};
        int r;

        r = load_targets(op, &t);
        if (r < 0)
                return r;

        r = refuse_if_host_uses_any(op, t.devices, t.n, "detach");
        if (r < 0)
                return r;

        for (size_t i = 0; i < t.n; i++) {
                r = take_from_driver(op, t.devices[i], &detach_steps, "detach");
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = commit_moved(op, op->moved);
        if (r < 0) {
                _cleanup_(strv_freep) char **moved = TAKE_PTR(op->moved);
                roll_back(op, moved);
                return r;
        }
        crash_point(CRASH_POINT_DETACH_COMMITTED);

        op->moved = strv_free(op->moved);
        op->detach.previous_driver = strdup(t.devices[0]->driver ?: "");
        return op->detach.previous_driver ? 0 : -ENOMEM;
}
