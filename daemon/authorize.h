/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "context.h"
#include "polkit.h" /* the action names */

/* What the call is about, for per-device rules. */
struct authorize_details {
        const char *address; /* canonical */
        int iommu_group;     /* -1: none */
        uint64_t flags;
        uid_t target_uid;    /* Grant only */
};

/* Called exactly once with the verdict: r >= 0 allowed; r < 0 refused or failed, with error set
 * for the caller. The message stays referenced until then. */
typedef void (*authorize_done_t)(struct context *c, sd_bus_message *m, int r, const sd_bus_error *error,
                                 void *userdata);

/* The one place that decides whether a caller may run a privileged action. The decision may come
 * later (polkit answers asynchronously), so the outcome is delivered through done, which may also
 * run before authorize() returns. Callers the bus reports as root pass at once; everyone else is
 * judged by polkit, by bus name, with the device and IOMMU group as details for rules. */
void authorize(struct context *c, sd_bus_message *m, const char *action, const struct authorize_details *details,
               authorize_done_t done, void *userdata);
