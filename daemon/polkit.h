/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Authorization of privileged calls by polkit, asked over D-Bus without blocking the bus.
 *
 * The subject is always the sender's unique bus name ("system-bus-name"): polkit asks the bus
 * who owns that connection, so nothing the caller says about itself (arguments, a pid that may
 * be reused or exec a setuid binary) enters the decision. Callers whose connection the bus
 * reports as euid 0 are allowed without asking polkit, so root keeps working when polkit is
 * missing. Everything else that goes wrong is a denial, never an allow. */

#define POLKIT_ACTION_DETACH "org.vfio.passthrough.detach"
#define POLKIT_ACTION_ATTACH "org.vfio.passthrough.attach"
#define POLKIT_ACTION_RESTORE "org.vfio.passthrough.restore"
#define POLKIT_ACTION_GRANT "org.vfio.passthrough.grant"
#define POLKIT_ACTION_GRANT_OTHER "org.vfio.passthrough.grant-other"
#define POLKIT_ACTION_FORCE "org.vfio.passthrough.force"
#define POLKIT_ACTION_MANAGE_OTHER "org.vfio.passthrough.manage-other"
#define POLKIT_ACTION_FORGET "org.vfio.passthrough.forget"

/* Keys of the details passed to polkit (rules read them with action.lookup(KEY); messages of
 * the .policy file show them as $(KEY)). */
#define POLKIT_DETAIL_DEVICE "device"
#define POLKIT_DETAIL_IOMMU_GROUP "iommu_group"
#define POLKIT_DETAIL_OPERATION "operation"
#define POLKIT_DETAIL_USER "user"
#define POLKIT_DETAIL_UID "uid"
#define POLKIT_DETAIL_OWNER_UID "owner_uid"

/* The checks in flight. Owned by whoever owns the bus connection (struct context); freeing it
 * drops every pending check without calling its callback, so nothing it holds (the call
 * message, which pins the bus) outlives the daemon. */
struct polkit_registry;

struct polkit_registry *polkit_registry_new(void);
struct polkit_registry *polkit_registry_free(struct polkit_registry *registry);
unsigned polkit_registry_pending(const struct polkit_registry *registry);

static inline void polkit_registry_freep(struct polkit_registry **registry) {
        polkit_registry_free(*registry);
}

/* Called once polkit answered a pending check. result: 1 = allowed; a negative errno = not
 * allowed, and error then holds the D-Bus error to reply with:
 *   org.freedesktop.DBus.Error.AccessDenied                      polkit said no, or polkit
 *                                                                 could not be asked
 *   org.freedesktop.DBus.Error.InteractiveAuthorizationRequired  a password would be needed, but
 *                                                                 the caller did not allow
 *                                                                 interactive authorization
 * m is the call being authorized (the registry keeps it referenced until the callback
 * returns). The callback owns userdata from then on (it typically hands it to the operation
 * or frees it). It must not free the registry. */
typedef void (*polkit_done_t)(sd_bus_message *m, int result, const sd_bus_error *error, void *userdata);

/* Asks whether the sender of m may perform action. details: key, value, key, value, ..., NULL
 * (may be NULL). Honours m's allow-interactive-authorization flag.
 *
 * Returns 1 when the caller is allowed right away (euid 0): done is not called, go on.
 * Returns 0 when polkit was asked: done is called exactly once later and takes userdata over;
 *   if the registry is freed first, done is not called and free_userdata (may be NULL) frees
 *   userdata instead. Either way the check no longer exists afterwards.
 * Returns a negative errno when the check could not be started; ret_error is then set to the
 *   error to reply with (a method handler can return r with its own ret_error), done and
 *   free_userdata are not called. */
int polkit_check_async(struct polkit_registry *registry, sd_bus_message *m, const char *action,
                       const char *const *details, polkit_done_t done, void *userdata,
                       sd_bus_destroy_t free_userdata, sd_bus_error *ret_error);
