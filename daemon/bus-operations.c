/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-operations.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit-log.h"
#include "bus-path.h"
#include "grant.h"
#include "authorize.h"
#include "bus-util.h"
#include "context.h"
#include "log.h"
#include "pci-device.h"
#include "state.h"
#include "strv.h"
#include "targets.h"
#include "thread-job.h"
#include "vfio-passthrough-bus.h"
#include "wait.h"
#include "worker.h"

/* Steps that wait for the kernel or udev give up after this, well inside the operation timeout,
 * so a device that does not bind is reported (and rolled back) rather than timed out. */

/* User names as useradd accepts them; anything else is not looked up at all. */
#define USER_NAME_MAX 32

/* How many calls one user may have waiting for a user lookup or polkit at once. Enough for a
 * person and a script; a flood gets LimitsExceeded instead of a queue. */
#define PENDING_PER_CALLER_MAX 8

/* The flags each method understands; anything else is refused, not ignored. */
static uint64_t flags_allowed(enum operation_kind kind) {
        switch (kind) {
        case OPERATION_DETACH:
        case OPERATION_ATTACH:
                return VFIO_PT_FLAG_FORCE | VFIO_PT_FLAG_GROUP;
        case OPERATION_RESTORE:
        case OPERATION_GRANT:
                return VFIO_PT_FLAG_GROUP;
        default:
                return 0;
        }
}

static int check_flags(enum operation_kind kind, uint64_t flags, sd_bus_error *error) {
        uint64_t unknown = flags & ~VFIO_PT_FLAGS_ALL, meaningless = flags & VFIO_PT_FLAGS_ALL & ~flags_allowed(kind);

        if (unknown)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT,
                                         "Unknown flags 0x%" PRIx64 ": the known flags are 0x1 (force) and 0x2 (group).",
                                         unknown);
        if (meaningless)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ARGUMENT,
                                         "%s does not take the flags 0x%" PRIx64 " (0x1 force is for Detach and "
                                         "Attach; 0x2 group for Detach, Attach, Restore and Grant).",
                                         operation_kind_to_string(kind), meaningless);
        return 0;
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

/* --- calls waiting for authorization, per caller ---------------------------------------------- */

static struct pending_caller *find_pending(struct context *c, uid_t uid) {
        for (size_t i = 0; i < c->n_pending_callers; i++)
                if (c->pending_callers[i].uid == uid)
                        return &c->pending_callers[i];
        return NULL;
}

static int pending_add(struct context *c, uid_t uid) {
        struct pending_caller *p = find_pending(c, uid);

        if (!p) {
                p = reallocarray(c->pending_callers, c->n_pending_callers + 1, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                c->pending_callers = p;
                p = &c->pending_callers[c->n_pending_callers++];
                *p = (struct pending_caller) { .uid = uid };
        }
        if (p->n >= PENDING_PER_CALLER_MAX)
                return -EUSERS;
        p->n++;
        return 0;
}

static void pending_remove(struct context *c, uid_t uid) {
        struct pending_caller *p = find_pending(c, uid);

        if (!p)
                return;
        if (--p->n == 0)
                *p = c->pending_callers[--c->n_pending_callers];
}

/* --- the steps of a call: lookup, authorization, worker --------------------------------------- */

static void reply_refused(struct operation *op, const sd_bus_error *error) {
        int r;

        audit_log_operation(op, "denied", error->name, error->message);
        r = sd_bus_reply_method_error(op->message, error);
        if (r < 0)
                log_warning_errno(r, "Failed to send a refusal");
}

static void reply_finished(struct operation *op);
static void reply_early(struct operation *op, int error, const char *message);

/* A bus caller: answered with the results at the end, or with an error as soon as the worker
 * gives up waiting (Timeout) or the daemon stops (Interrupted). */
static const struct operation_requester bus_requester = {
        .finished = reply_finished,
        .answer_early = reply_early,
};

static void on_authorized(struct context *c, sd_bus_message *m, int r, const sd_bus_error *error, void *userdata) {
        _cleanup_(operation_freep) struct operation *op = userdata;

        pending_remove(c, op->caller_uid);
        op->authorized_usec = now_usec();
        log_debug("%s of %s: authorization took %.1f ms.", operation_kind_to_string(op->kind), op->name,
                  (double) (op->authorized_usec - op->called_usec) / USEC_PER_MSEC);
        if (r < 0) {
                reply_refused(op, error);
                return;
        }
        r = worker_submit(c, op);
        if (r < 0) {
                _cleanup_(freep) char *message = NULL;

                if (asprintf(&message, "Could not start %s: %s. Try again.", operation_kind_to_string(op->kind),
                             strerror(-r)) < 0)
                        message = NULL;
                reply_early(op, r, message ?: "Could not start the operation. Try again.");
                return;
        }
        TAKE_PTR(op); /* the worker has it now */
}

/* Fails a call before it reached a worker: answers, logs, releases. */
static void fail_early(struct context *c, struct operation *op, const char *name, const char *format, ...)
        _printf_(4, 5);
static void fail_early(struct context *c, struct operation *op, const char *name, const char *format, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;

        va_start(ap, format);
        (void) sd_bus_error_setfv(&error, name, format, ap);
        va_end(ap);
        pending_remove(c, op->caller_uid);
        reply_refused(op, &error);
        operation_free(op);
}

/* The action a call needs for a device, before any owner or force is added. */
static const char *base_action(const struct operation *op) {
        switch (op->kind) {
        case OPERATION_DETACH:
                return POLKIT_ACTION_DETACH;
        case OPERATION_ATTACH:
                return POLKIT_ACTION_ATTACH;
        case OPERATION_RESTORE:
                return POLKIT_ACTION_RESTORE;
        case OPERATION_GRANT:
                return op->target_uid == op->caller_uid ? POLKIT_ACTION_GRANT : POLKIT_ACTION_GRANT_OTHER;
        case OPERATION_FORGET:
                return POLKIT_ACTION_FORGET;
        case OPERATION_RECOVER:
                break; /* never asked for: the daemon's own */
        }
        return NULL;
}

/* Who owns a device the daemon moved, as its record says. Read-only here: a record of another
 * device or one that cannot be read is dealt with by the worker; for the question, nobody owns
 * such a device. */
static bool device_owner(struct context *c, const struct pci_device *d, uid_t *ret) {
        _cleanup_(device_record_freep) struct device_record *record = NULL;
        struct device_ids now;

        if (state_load(c->state_dir, &d->address, &record, NULL) < 0)
                return false;
        (void) device_ids_read(d, &now);
        if (!device_ids_equal(&now, &record->ids))
                return false;
        *ret = record->owner_uid;
        return true;
}

/* Every device the call touches, each with the actions it needs: the base action, FORCE in
 * addition where given, and manage-other where someone else owns the device. */
static int build_request(struct context *c, struct operation *op, const struct targets *t,
                         struct authorize_request *request) {
        const char *operation = operation_kind_to_verb(op->kind);
        int r;

        request->operation = operation;
        request->grant = op->kind == OPERATION_GRANT;
        request->target_uid = op->target_uid;
        request->target_user = op->target_user;
        for (size_t i = 0; i < t->n; i++) {
                const struct pci_device *d = t->devices[i];
                bool owned;
                uid_t owner = 0;

                owned = device_owner(c, d, &owner);
                r = authorize_request_add(request, base_action(op), d->name, d->iommu_group, owned, owner);
                if (r >= 0 && (op->flags & VFIO_PT_FLAG_FORCE))
                        r = authorize_request_add(request, POLKIT_ACTION_FORCE, d->name, d->iommu_group, owned,
                                                  owner);
                if (r >= 0 && owned && owner != op->caller_uid && op->kind != OPERATION_FORGET) {
                        r = authorize_request_add(request, POLKIT_ACTION_MANAGE_OTHER, d->name, d->iommu_group,
                                                  owned, owner);
                        if (r >= 0)
                                r = strv_push(&op->manage_other, d->name);
                }
                if (r >= 0)
                        r = strv_push(&op->authorized, d->name);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void authorize_operation(struct context *c, struct operation *op) {
        _cleanup_(authorize_request_done) struct authorize_request request = {};
        _cleanup_(targets_done) struct targets t = {};
        int r;

        r = targets_select(&c->reader, op->kind, &op->address, op->flags, c->state_dir, &t);
        if (r == -ENODEV) {
                fail_early(c, op, VFIO_PT_ERROR_NO_SUCH_DEVICE, "No PCI device at %s (any more).", op->name);
                return;
        }
        if (r >= 0)
                r = build_request(c, op, &t, &request);
        if (r < 0) {
                fail_early(c, op, VFIO_PT_ERROR_OPERATION_FAILED, "Could not read %s and its IOMMU group: %s",
                           op->name, strerror(-r));
                return;
        }
        authorize(c, op->message, &request, on_authorized, op);
}

/* --- Grant's user lookup, off the event loop ---------------------------------------------------- */

struct user_lookup {
        struct operation *op;
        char *text; /* what the caller gave: "", digits, or a valid user name */
        int error;  /* -ESRCH: no such user */
};

static void lookup_work(void *userdata) {
        struct user_lookup *l = userdata;
        struct operation *op = l->op;
        struct passwd pw, *found = NULL;
        char buf[4096];

        if (l->text[0] == '\0')
                op->target_uid = op->caller_uid;
        else if (strspn(l->text, "0123456789") == strlen(l->text))
                op->target_uid = (uid_t) strtoul(l->text, NULL, 10);
        else if (getpwnam_r(l->text, &pw, buf, sizeof(buf), &found) == 0 && found)
                op->target_uid = found->pw_uid;
        else {
                l->error = -ESRCH;
                return;
        }
        /* The name, for polkit's message and the log; a uid without one stays a number. */
        found = NULL;
        if (getpwuid_r(op->target_uid, &pw, buf, sizeof(buf), &found) == 0 && found)
                op->target_user = strdup(found->pw_name);
        else
                (void) strdup_printf(&op->target_user, "%u", (unsigned) op->target_uid);
        if (!op->target_user)
                l->error = -ENOMEM;
}

static void lookup_done(struct context *c, void *userdata) {
        struct user_lookup *l = userdata;
        struct operation *op = l->op;
        char shown[64];

        if (l->error == -ESRCH)
                fail_early(c, op, VFIO_PT_ERROR_NO_SUCH_USER,
                           "No user %s on this system. Give an existing user name or a numeric uid.",
                           bus_printable_argument(l->text, shown, sizeof(shown)));
        else if (l->error < 0)
                fail_early(c, op, VFIO_PT_ERROR_OPERATION_FAILED, "Could not look up the user: %s",
                           strerror(-l->error));
        else
                authorize_operation(c, op);
        free(l->text);
        free(l);
}

/* Checks what needs no lookup (a uid that cannot be one, a string that cannot be a name), then
 * looks the user up on a thread of its own. */
static int start_lookup(struct context *c, struct operation *op, const char *user, sd_bus_error *error) {
        _cleanup_(freep) struct user_lookup *l = NULL;
        char shown[64];
        int r;

        if (strspn(user, "0123456789") == strlen(user) && user[0] != '\0') {
                unsigned long v = strlen(user) <= 10 ? strtoul(user, NULL, 10) : UINT32_MAX;
                /* (uid_t) -1 means "no change" to the kernel; 65535 is the 16-bit variant of it. */
                if (v >= UINT32_MAX || v == 65535)
                        return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_USER, "%s is not a usable uid.",
                                                 bus_printable_argument(user, shown, sizeof(shown)));
        } else if (user[0] != '\0' && !user_name_valid(user))
                return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_USER,
                                         "No user %s on this system. Give an existing user name or a numeric uid.",
                                         bus_printable_argument(user, shown, sizeof(shown)));

        l = calloc(1, sizeof(*l));
        if (!l || !(l->text = strdup(user)))
                return -ENOMEM;
        l->op = op;
        r = thread_job_start(c, lookup_work, lookup_done, l);
        if (r < 0) {
                free(l->text);
                return r;
        }
        TAKE_PTR(l);
        return 0;
}

/* --- the method handlers ------------------------------------------------------------------------ */

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

int bus_operation_start(sd_bus_message *m, struct context *c, enum operation_kind kind, const char *text,
                        const char *user, uint64_t flags, bool object_reply, sd_bus_error *error) {
        _cleanup_(operation_freep) struct operation *op = NULL;
        _cleanup_(pci_device_freep) struct pci_device *d = NULL;
        char shown[64];
        int r;

        if (c->stopping)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_INTERRUPTED,
                                         "The daemon is stopping; call again once it is back.");
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->called_usec = now_usec();
        op->kind = kind;
        op->flags = flags;
        op->object_reply = object_reply;

        r = caller_identity(m, &op->caller_uid, &op->caller_pid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Cannot tell who is calling: %s",
                                         strerror(-r));
        log_info("%s called by uid %u (%s, flags 0x%" PRIx64 ").", operation_kind_to_string(kind),
                 (unsigned) op->caller_uid, bus_printable_argument(text, shown, sizeof(shown)), flags);

        r = check_flags(kind, flags, error);
        if (r < 0)
                return r;
        r = bus_parse_address(text, &op->address, error);
        if (r < 0)
                return r;
        pci_address_format(&op->address, op->name);

        r = pci_device_load(&c->reader, &op->address, &d);
        if (r == -ENODEV)
                return sd_bus_error_setf(error, VFIO_PT_ERROR_NO_SUCH_DEVICE,
                                         "No PCI device at %s.",
                                         op->name);
        if (r < 0)
                return log_error_errno(r, "Failed to read PCI device %s", op->name);
        op->iommu_group = d->iommu_group;
        op->state_dir = c->state_dir;
        op->kmod_dir = c->kmod_dir;
        op->settle_usec = c->settle_usec;
        op->message = sd_bus_message_ref(m);
        op->requester = &bus_requester;

        r = pending_add(c, op->caller_uid);
        if (r == -EUSERS)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "uid %u has %u calls waiting for authorization already; call again when "
                                         "they are answered.",
                                         (unsigned) op->caller_uid, PENDING_PER_CALLER_MAX);
        if (r < 0)
                return r;

        if (kind == OPERATION_GRANT) {
                r = start_lookup(c, op, user, error);
                if (r < 0) {
                        pending_remove(c, op->caller_uid);
                        return r;
                }
        } else
                authorize_operation(c, op);
        TAKE_PTR(op); /* answered by the lookup, authorization or the worker */
        return 1;
}

/* Detach, Attach, Restore and Forget share the signature (s address, t flags). */
static int start_address_operation(sd_bus_message *m, void *userdata, enum operation_kind kind,
                                   sd_bus_error *error) {
        const char *address;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "st", &address, &flags);
        if (r < 0)
                return r;
        return bus_operation_start(m, userdata, kind, address, NULL, flags, false, error);
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
        return bus_operation_start(m, userdata, OPERATION_GRANT, address, user, flags, false, error);
}

int method_forget(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_address_operation(m, userdata, OPERATION_FORGET, error);
}

/* --- replies ----------------------------------------------------------------------------------- */

static int append_paths(sd_bus_message *reply, char **addresses) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        STRV_FOREACH(a, addresses) {
                struct pci_address address;
                char path[BUS_PATH_MAX];

                if (r < 0)
                        return r;
                if (pci_address_parse(*a, &address) < 0)
                        continue;
                r = sd_bus_message_append(reply, "o", bus_device_path(&address, path));
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* The devices a call moved: object paths in the Device object's replies, addresses in the
 * manager's. */
static int append_moved(sd_bus_message *reply, const struct operation *op) {
        return op->object_reply ? append_paths(reply, op->moved) : sd_bus_message_append_strv(reply, op->moved);
}

/* The Device object's replies differ from the manager's in naming objects by path and in leaving
 * out the group node (the Group object has it). */
static int append_results(sd_bus_message *reply, const struct operation *op) {
        char path[BUS_PATH_MAX];
        int r;

        switch (op->kind) {
        case OPERATION_DETACH:
                return sd_bus_message_append(reply, "s", op->detach.previous_driver ?: "");
        case OPERATION_ATTACH:
                if (op->object_reply)
                        r = sd_bus_message_append(reply, "ob", bus_group_path(op->iommu_group, path),
                                                  op->attach.group_viable);
                else
                        r = sd_bus_message_append(reply, "sb", op->attach.group_node ?: "", op->attach.group_viable);
                return r < 0 ? r : append_moved(reply, op);
        case OPERATION_RESTORE:
                r = sd_bus_message_append(reply, "s", op->restore.driver ?: "");
                return r < 0 ? r : append_moved(reply, op);
        case OPERATION_GRANT:
                r = op->object_reply ? 0 : sd_bus_message_append(reply, "s", op->grant.group_node ?: "");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "u", (uint32_t) op->target_uid);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, op->grant.nodes);
                if (r < 0)
                        return r;
                return sd_bus_message_append(reply, "tt", op->grant.memlock_limit, GRANT_MEMLOCK_MINIMUM);
        case OPERATION_FORGET:
                return 0;
        case OPERATION_RECOVER:
                break;
        }
        return -EINVAL;
}

static void reply_finished(struct operation *op) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (op->error_name) {
                audit_log_operation(op, "failed", op->error_name, op->error_message);
                r = sd_bus_reply_method_errorf(op->message, op->error_name, "%s",
                                               op->error_message ?: "The operation failed; see the journal.");
        } else {
                audit_log_operation(op, "done", NULL, NULL);
                r = sd_bus_message_new_method_return(op->message, &reply);
                if (r >= 0)
                        r = append_results(reply, op);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s of %s", operation_kind_to_string(op->kind), op->name);
}

/* Error.Timeout, Error.Interrupted (the daemon is stopping), or Error.OperationFailed. */
static void reply_early(struct operation *op, int error, const char *message) {
        const char *name = error == -ETIMEDOUT ? VFIO_PT_ERROR_TIMEOUT
                           : error == -EINTR   ? VFIO_PT_ERROR_INTERRUPTED
                                               : VFIO_PT_ERROR_OPERATION_FAILED;
        const char *result = error == -ETIMEDOUT ? "timeout" : error == -EINTR ? "interrupted" : "failed";
        int r;

        audit_log_operation(op, result, name, message);
        r = sd_bus_reply_method_errorf(op->message, name, "%s", message);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s of %s", operation_kind_to_string(op->kind), op->name);
}
