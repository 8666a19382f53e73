/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Maps the project's named errors to errno values, so sd_bus_error_setf() returns a meaningful
 * errno in the daemon and sd_bus_error_get_errno() works in the client. Register it with
 * sd_bus_error_add_map() before the first error is set. */
extern const sd_bus_error_map vfio_pt_error_map[];
