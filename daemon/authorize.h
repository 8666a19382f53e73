/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "context.h"
#include "pci-address.h"
#include "polkit.h" /* the action names */

/* One question for polkit: may the caller do action to this device? */
struct authorize_check {
        const char *action;
        char address[PCI_ADDRESS_STRING_MAX];
        int iommu_group; /* -1: none */
        bool has_owner;  /* the daemon moved the device, for owner_uid */
        uid_t owner_uid;
};

/* Everything one call needs allowed: every action for every device it touches. */
struct authorize_request {
        const char *operation; /* "detach", "attach", "restore", "grant", "forget": the operation detail */
        struct authorize_check *checks;
        size_t n_checks;
        bool grant;            /* the user and uid details below are set */
        uid_t target_uid;
        const char *target_user; /* a name, or the uid as text when it has none */
};

void authorize_request_done(struct authorize_request *request);
/* Appends a check; the strings must outlive the request (action names are constants). */
int authorize_request_add(struct authorize_request *request, const char *action, const char *address,
                          int iommu_group, bool has_owner, uid_t owner_uid);

/* Called exactly once with the verdict: r >= 0 allowed (every check); r < 0 refused or failed,
 * with error set for the caller (the first refusal). The message stays referenced until then. */
typedef void (*authorize_done_t)(struct context *c, sd_bus_message *m, int r, const sd_bus_error *error,
                                 void *userdata);

/* The one place that decides whether a caller may run a privileged call. The checks are asked one
 * after the other and all must pass; the decision may come later (polkit answers asynchronously),
 * so it is delivered through done, which may also run before authorize() returns. Callers the bus
 * reports as root pass at once; everyone else is judged by polkit, by bus name, with the device,
 * IOMMU group, operation (and owner, user) as details for rules. Takes request over. */
void authorize(struct context *c, sd_bus_message *m, struct authorize_request *request, authorize_done_t done,
               void *userdata);
