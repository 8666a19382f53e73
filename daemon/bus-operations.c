/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-operations.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "context.h"
#include "log.h"
#include "pci-device.h"
#include "strv.h"
#include "vfio-passthrough-bus.h"
#include "wait.h"
#include "worker.h"

/* Steps that wait for the kernel or udev give up after this, well inside the operation timeout,
 * so a device that does not bind is reported (and rolled back) rather than timed out. */
#define SETTLE_MAX_USEC (5 * USEC_PER_SEC)

/* User names as useradd accepts them; anything else is not looked up at all. */
#define USER_NAME_MAX 32

static int check_flags(uint64_t flags, sd_bus_error *error) {
        if ((flags & ~VFIO_PT_FLAGS_ALL) == 0)
                return 0;
        return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT,
                                 "Unknown flags 0x%" PRIx64 ": the known flags are 0x1 (force) and 0x2 (group).",
                                 flags & ~VFIO_PT_FLAGS_ALL);
}

static bool user_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > USER_NAME_MAX || name[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') &&
                    !(name[i] >= '0' && name[i] <= '9') && !strchr("_.-", name[i]) &&
                    !(name[i] == '$' && i == n - 1))
                        return false;
        return true;
}

/* "" is the caller (as the bus reports it), digits a uid, anything else a user name. */
static int resolve_user(const char *user, uid_t caller, uid_t *ret, sd_bus_error *error) {
        char shown[64];

        if (user[0] == '\0') {
                *ret = caller;
                return 0;
        }
        if (strspn(user, "0123456789") == strlen(user) && strlen(user) <= 10) {
                unsigned long v = strtoul(user, NULL, 10);
                /* (uid_t) -1 means "no change" to chown; 65535 is the 16-bit variant of it. */
                if (v >= UINT32_MAX || v == 65535)
                        return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_USER, "%s is not a usable uid.", user);
                *ret = (uid_t) v;
                return 0;
        }
        if (user_name_valid(user)) {
                struct passwd pw, *result = NULL;
                char buf[4096];

                if (getpwnam_r(user, &pw, buf, sizeof(buf), &result) == 0 && result) {
                        *ret = result->pw_uid;
                        return 0;
                }
        }
        return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_USER,
                                 "No user %s on this system. Give an existing user name or a numeric uid.",
                                 bus_printable_argument(user, shown, sizeof(shown)));
}

static const char *choose_action(const struct operation *op) {
        if (op->kind == OPERATION_GRANT)
                return op->target_uid == op->caller_uid ? POLKIT_ACTION_GRANT : POLKIT_ACTION_GRANT_OTHER;
        if (op->flags & VFIO_PT_FLAG_FORCE)
                return POLKIT_ACTION_FORCE;
        switch (op->kind) {
        case OPERATION_DETACH:
                return POLKIT_ACTION_DETACH;
        case OPERATION_ATTACH:
                return POLKIT_ACTION_ATTACH;
        default:
                return POLKIT_ACTION_RESTORE;
        }
}

static void on_authorized(struct context *c, sd_bus_message *m, int r, const sd_bus_error *error, void *userdata) {
        _cleanup_(operation_freep) struct operation *op = userdata;

        if (r < 0) {
                r = sd_bus_reply_method_error(m, error);
                if (r < 0)
                        log_warning_errno(r, "Failed to send a refusal");
                return;
        }
        r = worker_submit(c, op);
        if (r < 0) {
                bus_operation_reply_error(op, r, "Could not start %s: %s. Try again.",
                                          operation_kind_to_string(op->kind), strerror(-r));
                return;
        }
        TAKE_PTR(op); /* the worker has it now */
}

static int caller_identity(sd_bus_message *m, uid_t *ret_uid, pid_t *ret_pid) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, ret_uid);
        if (r < 0)
                return r;
        if (sd_bus_creds_get_pid(creds, ret_pid) < 0)
                *ret_pid = 0;
        return 0;
}

static int start_operation(sd_bus_message *m, struct context *c, enum operation_kind kind, const char *text,
                           const char *user, uint64_t flags, sd_bus_error *error) {
        _cleanup_(operation_freep) struct operation *op = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        struct authorize_details details;
        const char *action;
        char shown[64];
        int r;

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->kind = kind;
        op->flags = flags;

        r = caller_identity(m, &op->caller_uid, &op->caller_pid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Cannot tell who is calling: %s",
                                         strerror(-r));
        log_info("%s called by uid %u (%s, flags 0x%" PRIx64 ").", operation_kind_to_string(kind),
                 (unsigned) op->caller_uid, bus_printable_argument(text, shown, sizeof(shown)), flags);

        r = check_flags(flags, error);
        if (r < 0)
                return r;
        r = bus_parse_address(text, &op->address, error);
        if (r < 0)
                return r;
        pci_address_format(&op->address, op->name);

        r = pci_device_load(&c->reader, &op->address, &d);
        if (r == -ENODEV)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_DEVICE,
                                         "No PCI device at %s. 'vfio-passthroughctl list' shows the devices present.",
                                         op->name);
        if (r < 0)
                return log_error_errno(r, "Failed to read PCI device %s", op->name);
        op->iommu_group = d->iommu_group;

        if (kind == OPERATION_GRANT) {
                r = resolve_user(user, op->caller_uid, &op->target_uid, error);
                if (r < 0)
                        return r;
        }

        op->state_dir = c->state_dir;
        op->kmod_dir = c->kmod_dir;
        op->settle_usec = c->operation_timeout_usec / 2 < SETTLE_MAX_USEC ? c->operation_timeout_usec / 2
                                                                          : SETTLE_MAX_USEC;
        op->message = sd_bus_message_ref(m);

        action = choose_action(op);
        details = (struct authorize_details) {
                .address = op->name,
                .iommu_group = op->iommu_group,
                .flags = flags,
                .target_uid = op->target_uid,
        };
        authorize(c, m, action, &details, on_authorized, TAKE_PTR(op));
        return 1; /* answered by on_authorized or by the worker */
}

/* Detach, Attach and Restore share the signature (s address, t flags). */
static int start_address_operation(sd_bus_message *m, void *userdata, enum operation_kind kind,
                                   sd_bus_error *error) {
        const char *address;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "st", &address, &flags);
        if (r < 0)
                return r;
        return start_operation(m, userdata, kind, address, NULL, flags, error);
}

int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_address_operation(m, userdata, OPERATION_DETACH, error);
}

int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_address_operation(m, userdata, OPERATION_ATTACH, error);
}

int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_address_operation(m, userdata, OPERATION_RESTORE, error);
}

int method_grant(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *address, *user;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "sst", &address, &user, &flags);
        if (r < 0)
                return r;
        return start_operation(m, userdata, OPERATION_GRANT, address, user, flags, error);
}

static int append_results(sd_bus_message *reply, const struct operation *op) {
        int r;

        switch (op->kind) {
        case OPERATION_DETACH:
                return sd_bus_message_append(reply, "s", op->driver ?: "");
        case OPERATION_ATTACH:
                r = sd_bus_message_append(reply, "sb", op->group_node ?: "", op->group_viable);
                if (r < 0)
                        return r;
                return sd_bus_message_append_strv(reply, op->moved);
        case OPERATION_RESTORE:
                r = sd_bus_message_append(reply, "s", op->driver ?: "");
                if (r < 0)
                        return r;
                return sd_bus_message_append_strv(reply, op->moved);
        case OPERATION_GRANT:
                r = sd_bus_message_append(reply, "su", op->group_node ?: "", (uint32_t) op->target_uid);
                if (r < 0)
                        return r;
                r = sd_bus_message_append_strv(reply, op->nodes);
                if (r < 0)
                        return r;
                return sd_bus_message_append(reply, "s", op->warning ?: "");
        }
        return -EINVAL;
}

void bus_operation_reply(struct operation *op) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (op->error_name) {
                log_info("%s of %s for uid %u failed: %s", operation_kind_to_string(op->kind), op->name,
                         (unsigned) op->caller_uid, op->error_message ?: op->error_name);
                r = sd_bus_reply_method_errorf(op->message, op->error_name, "%s",
                                               op->error_message ?: "The operation failed; see the journal.");
        } else {
                r = sd_bus_message_new_method_return(op->message, &reply);
                if (r >= 0)
                        r = append_results(reply, op);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s of %s", operation_kind_to_string(op->kind), op->name);
}

void bus_operation_reply_error(struct operation *op, int error, const char *format, ...) {
        _cleanup_(freep) char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);

        r = sd_bus_reply_method_errorf(op->message,
                                       error == -ETIMEDOUT ? VFIO_PT_ERROR_TIMEOUT : VFIO_PT_ERROR_OPERATION_FAILED,
                                       "%s", message ?: "The operation failed.");
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s of %s", operation_kind_to_string(op->kind), op->name);
}
