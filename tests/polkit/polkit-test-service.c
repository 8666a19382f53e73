/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for vfio-passthroughd that does everything the real daemon does before touching a
 * device — parse the arguments, pick the polkit action, ask daemon/polkit.c — and then, instead
 * of touching sysfs, replies with the action that allowed the call. It owns the daemon's bus
 * name with the daemon's method signatures, so the same callers work against both.
 *
 * Every decision is logged on stderr as
 *   DECISION <method> <device> <action> uid=<caller's uid> allowed|<error name>
 * which the test reads to prove that a denied call never reached the "operation". */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "pci-address.h"
#include "polkit.h"
#include "vfio-passthrough-bus.h"

struct service {
        sd_bus *bus;
        struct polkit_registry *polkit;
};

/* What a privileged call is about, kept until polkit has answered. */
struct request {
        char method[16];
        char device[PCI_ADDRESS_STRING_MAX];
        char caller[16]; /* the caller's uid as the bus reports it, for the log */
        const char *action;
        uid_t target_uid; /* Grant only */
};

/* The tests' fake topology: the IOMMU group is what per-device rules may look at. */
static const char *iommu_group_of(const char *device) {
        return strcmp(device, "0000:59:00.0") == 0 ? "6" : "7";
}

static void log_decision(const struct request *req, const char *verdict) {
        fprintf(stderr, "DECISION %s %s %s uid=%s %s\n", req->method, req->device, req->action, req->caller,
                verdict);
        fflush(stderr);
}

static int reply_allowed(sd_bus_message *m, const struct request *req) {
        char text[128];

        log_decision(req, "allowed");
        snprintf(text, sizeof(text), "authorized by %s", req->action);
        if (strcmp(req->method, "Detach") == 0)
                return sd_bus_reply_method_return(m, "s", text);
        if (strcmp(req->method, "Attach") == 0)
                return sd_bus_reply_method_return(m, "sbas", text, 1, 0);
        if (strcmp(req->method, "Restore") == 0)
                return sd_bus_reply_method_return(m, "sas", text, 0);
        return sd_bus_reply_method_return(m, "suass", text, (uint32_t) req->target_uid, 0, "");
}

static void on_authorized(sd_bus_message *m, int result, const sd_bus_error *error, void *userdata) {
        _cleanup_(freep) struct request *req = userdata; /* ours now */

        if (result < 0) {
                log_decision(req, error->name);
                (void) sd_bus_reply_method_error(m, error);
                return;
        }
        (void) reply_allowed(m, req);
}

/* The one polkit question per call: force and grant-to-somebody-else replace the plain action
 * (as logind's *-multiple-sessions actions do), so a caller answers one prompt at most. */
static const char *action_for(const char *method, uint64_t flags, bool grant_to_other) {
        if (strcmp(method, "Detach") == 0)
                return flags & VFIO_PT_FLAG_FORCE ? POLKIT_ACTION_FORCE : POLKIT_ACTION_DETACH;
        if (strcmp(method, "Attach") == 0)
                return flags & VFIO_PT_FLAG_FORCE ? POLKIT_ACTION_FORCE : POLKIT_ACTION_ATTACH;
        if (strcmp(method, "Restore") == 0)
                return POLKIT_ACTION_RESTORE;
        return grant_to_other ? POLKIT_ACTION_GRANT_OTHER : POLKIT_ACTION_GRANT;
}

static int caller_uid(sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        return sd_bus_creds_get_euid(creds, ret);
}

/* "" = the caller; otherwise a user name or a decimal uid. */
static int resolve_user(sd_bus_message *m, const char *user, uid_t *ret, sd_bus_error *error) {
        struct passwd *pw;
        char *end;
        unsigned long value;

        if (!*user)
                return caller_uid(m, ret);
        errno = 0;
        value = strtoul(user, &end, 10);
        if (!*end && errno == 0 && value < UINT32_MAX) {
                *ret = (uid_t) value;
                return 0;
        }
        pw = getpwnam(user);
        if (!pw)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_USER, "No user '%s'.", user);
        *ret = pw->pw_uid;
        return 0;
}

static int handle_privileged(sd_bus_message *m, struct service *service, const char *method, const char *address,
                             const char *user, uint64_t flags, sd_bus_error *error) {
        _cleanup_(freep) struct request *req = calloc(1, sizeof(*req));
        char uid_text[16] = "";
        const char *user_name = "";
        bool grant_to_other = false;
        int r;

        if (!req)
                return -ENOMEM;
        snprintf(req->method, sizeof(req->method), "%s", method);
        snprintf(req->caller, sizeof(req->caller), "?");
        {
                uid_t uid;
                if (caller_uid(m, &uid) >= 0)
                        snprintf(req->caller, sizeof(req->caller), "%u", (unsigned) uid);
        }
        /* Validate first: a malformed call must not make anybody type a password. */
        if (pci_address_canonicalize(address, req->device) < 0)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ADDRESS, "Invalid PCI address.");
        if (flags & ~VFIO_PT_FLAGS_ALL)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT, "Unknown flags 0x%" PRIx64 ".",
                                         flags & ~VFIO_PT_FLAGS_ALL);
        if (user) {
                uid_t self;
                struct passwd *pw;

                r = resolve_user(m, user, &req->target_uid, error);
                if (r < 0)
                        return r;
                r = caller_uid(m, &self);
                if (r < 0)
                        return r;
                grant_to_other = req->target_uid != self;
                pw = getpwuid(req->target_uid);
                user_name = pw ? pw->pw_name : "";
                snprintf(uid_text, sizeof(uid_text), "%u", (unsigned) req->target_uid);
        }
        req->action = action_for(method, flags, grant_to_other);

        const char *operation = method[0] == 'D' ? "detach" : method[0] == 'A' ? "attach"
                              : method[0] == 'R' ? "restore" : "grant";
        const char *details[] = {
                POLKIT_DETAIL_DEVICE, req->device,
                POLKIT_DETAIL_IOMMU_GROUP, iommu_group_of(req->device),
                POLKIT_DETAIL_OPERATION, operation,
                user ? POLKIT_DETAIL_USER : NULL, user_name,
                POLKIT_DETAIL_UID, uid_text,
                NULL,
        };

        r = polkit_check_async(service->polkit, m, req->action, details, on_authorized, req, free, error);
        if (r < 0) {
                log_decision(req, error->name);
                return r;
        }
        if (r > 0) /* root */
                return reply_allowed(m, req);
        TAKE_PTR(req); /* the check's now, then on_authorized's */
        return 1;
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *address;
        uint64_t flags;
        int r = sd_bus_message_read(m, "st", &address, &flags);
        if (r < 0)
                return r;
        return handle_privileged(m, userdata, "Detach", address, NULL, flags, error);
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *address;
        uint64_t flags;
        int r = sd_bus_message_read(m, "st", &address, &flags);
        if (r < 0)
                return r;
        return handle_privileged(m, userdata, "Attach", address, NULL, flags, error);
}

static int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *address;
        uint64_t flags;
        int r = sd_bus_message_read(m, "st", &address, &flags);
        if (r < 0)
                return r;
        return handle_privileged(m, userdata, "Restore", address, NULL, flags, error);
}

static int method_grant(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *address, *user;
        uint64_t flags;
        int r = sd_bus_message_read(m, "sst", &address, &user, &flags);
        if (r < 0)
                return r;
        return handle_privileged(m, userdata, "Grant", address, user, flags, error);
}

/* Read-only, never authorized: answers while privileged calls wait for polkit. */
static int method_ping(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct service *service = userdata;
        return sd_bus_reply_method_return(m, "u", polkit_registry_pending(service->polkit));
}

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Detach", "st", "s", method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Attach", "st", "sbas", method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Restore", "st", "sas", method_restore, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Grant", "sst", "suass", method_grant, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("PendingChecks", "", "u", method_ping, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int run(void) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(polkit_registry_freep) struct polkit_registry *polkit = NULL;
        struct service service = { 0 };
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r < 0)
                return r;
        (void) sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL); /* NULL handler: exit the loop */
        (void) sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);

        polkit = polkit_registry_new();
        if (!polkit)
                return -ENOMEM;
        r = sd_bus_open_system(&bus); /* honours DBUS_SYSTEM_BUS_ADDRESS */
        if (r < 0)
                return r;
        service.bus = bus;
        service.polkit = polkit;
        r = sd_bus_add_object_vtable(bus, NULL, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE, service_vtable, &service);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, event, 0);
        if (r < 0)
                return r;
        r = sd_bus_request_name(bus, VFIO_PT_BUS_NAME, 0);
        if (r < 0)
                return r;
        r = sd_event_loop(event);
        if (r < 0)
                return r;
        fprintf(stderr, "EXIT with %u checks pending\n", polkit_registry_pending(polkit));
        /* The registry goes before the bus (reverse declaration order): pending checks release
         * their messages, which reference the bus, and the bus can be freed. */
        return 0;
}

int main(void) {
        int r = run();
        if (r < 0) {
                fprintf(stderr, "polkit-test-service: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
