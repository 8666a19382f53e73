/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "authorize.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "polkit.h"

void authorize_request_done(struct authorize_request *request) {
        free(request->checks);
        *request = (struct authorize_request) {};
}

int authorize_request_add(struct authorize_request *request, const char *action, const char *address,
                          int iommu_group, bool has_owner, uid_t owner_uid) {
        struct authorize_check *p = reallocarray(request->checks, request->n_checks + 1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        request->checks = p;
        p = &request->checks[request->n_checks++];
        *p = (struct authorize_check) {
                .action = action, .iommu_group = iommu_group, .has_owner = has_owner, .owner_uid = owner_uid,
        };
        snprintf(p->address, sizeof(p->address), "%s", address);
        return 0;
}

/* A call on its way through its checks. */
struct pending_authorization {
        struct context *context;
        sd_bus_message *message;
        struct authorize_request request;
        size_t next; /* the check to ask next */
        authorize_done_t done;
        void *userdata;
};

static void pending_authorization_free(void *p) {
        struct pending_authorization *pending = p;

        /* Still holding the call means polkit never answered (the daemon is stopping): the caller
         * gets a reply and its operation is released rather than leaked. */
        if (pending->done) {
                sd_bus_error error = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED,
                                                             "vfio-passthroughd stopped before polkit answered.");
                pending->done(pending->context, pending->message, -EACCES, &error, pending->userdata);
        }
        sd_bus_message_unref(pending->message);
        authorize_request_done(&pending->request);
        free(pending);
}

static void finish(struct pending_authorization *pending, int r, const sd_bus_error *error) {
        authorize_done_t done = pending->done;

        pending->done = NULL; /* answered: the free below must not answer again */
        done(pending->context, pending->message, r, error, pending->userdata);
        pending_authorization_free(pending);
}

static void ask_next(struct pending_authorization *pending);

static void on_polkit_answer(sd_bus_message *m, int result, const sd_bus_error *error, void *userdata) {
        struct pending_authorization *pending = userdata;
        const struct authorize_check *check = &pending->request.checks[pending->next];

        if (result < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error named = SD_BUS_ERROR_NULL;

                log_notice("polkit refused %s on %s for %s: %s", check->action, check->address,
                           sd_bus_message_get_sender(m), error && error->message ? error->message : strerror(-result));
                /* A call may touch several devices: say which one was refused. */
                if (error && error->name)
                        (void) sd_bus_error_setf(&named, error->name, "%s (device %s)",
                                                 error->message ?: "Refused.", check->address);
                finish(pending, result, named.name ? &named : error);
                return;
        }
        pending->next++;
        ask_next(pending);
}

/* The details of one check, for polkit rules and the .policy's messages. */
struct details {
        char group[16], owner[16], uid[16];
        const char *keys_values[15];
};

static void fill_details(const struct authorize_request *request, const struct authorize_check *check,
                         struct details *d) {
        size_t n = 0;

        snprintf(d->group, sizeof(d->group), "%d", check->iommu_group);
        d->keys_values[n++] = POLKIT_DETAIL_DEVICE;
        d->keys_values[n++] = check->address;
        d->keys_values[n++] = POLKIT_DETAIL_IOMMU_GROUP;
        d->keys_values[n++] = d->group;
        d->keys_values[n++] = POLKIT_DETAIL_OPERATION;
        d->keys_values[n++] = request->operation;
        if (check->has_owner) {
                snprintf(d->owner, sizeof(d->owner), "%u", (unsigned) check->owner_uid);
                d->keys_values[n++] = POLKIT_DETAIL_OWNER_UID;
                d->keys_values[n++] = d->owner;
        }
        if (request->grant) {
                snprintf(d->uid, sizeof(d->uid), "%u", (unsigned) request->target_uid);
                d->keys_values[n++] = POLKIT_DETAIL_UID;
                d->keys_values[n++] = d->uid;
                d->keys_values[n++] = POLKIT_DETAIL_USER;
                d->keys_values[n++] = request->target_user ?: d->uid;
        }
        d->keys_values[n] = NULL;
}

static void ask_next(struct pending_authorization *pending) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const struct authorize_check *check;
        struct details details;
        int r;

        if (pending->next >= pending->request.n_checks) {
                finish(pending, 0, NULL);
                return;
        }
        check = &pending->request.checks[pending->next];
        fill_details(&pending->request, check, &details);
        r = polkit_check_async(pending->context->polkit, pending->message, check->action, details.keys_values,
                               on_polkit_answer, pending, pending_authorization_free, &error);
        if (r == 0)
                return; /* on_polkit_answer, or the registry's teardown, takes it from here */
        if (r < 0) {
                log_notice("Refused %s on %s: %s", check->action, check->address, error.message ?: strerror(-r));
                finish(pending, r, &error);
                return;
        }
        /* Root, as the bus reports it: every further check would pass the same way. */
        finish(pending, 0, NULL);
}

void authorize(struct context *c, sd_bus_message *m, struct authorize_request *request, authorize_done_t done,
               void *userdata) {
        struct pending_authorization *pending = calloc(1, sizeof(*pending));

        if (!pending) {
                sd_bus_error error = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_NO_MEMORY, "Out of memory.");
                authorize_request_done(request);
                done(c, m, -ENOMEM, &error, userdata);
                return;
        }
        pending->context = c;
        pending->message = sd_bus_message_ref(m);
        pending->request = *request;
        *request = (struct authorize_request) {};
        pending->done = done;
        pending->userdata = userdata;
        if (pending->request.n_checks == 0) {
                /* A privileged call that asks nothing would be allowed unasked: never. */
                sd_bus_error error = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED, "Nothing to authorize.");
                finish(pending, -EACCES, &error);
                return;
        }
        ask_next(pending);
}
