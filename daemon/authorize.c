/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "authorize.h"

#include <ctype.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "polkit.h"

/* What a pending polkit check needs to hand its verdict back to the caller of authorize(). */
struct pending_authorization {
        struct context *context;
        sd_bus_message *message;
        char *action;
        authorize_done_t done;
        void *userdata;
};

static void pending_authorization_free(void *p) {
        struct pending_authorization *pending = p;

        /* Still holding the operation means polkit never answered (the daemon is stopping): the
         * caller gets a reply and its operation is released rather than leaked. */
        if (pending->done) {
                sd_bus_error error = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED,
                                                             "vfio-passthroughd stopped before polkit answered.");
                pending->done(pending->context, pending->message, -EACCES, &error, pending->userdata);
        }
        sd_bus_message_unref(pending->message);
        free(pending->action);
        free(pending);
}

static void on_polkit_answer(sd_bus_message *m, int result, const sd_bus_error *error, void *userdata) {
        struct pending_authorization *pending = userdata;
        authorize_done_t done = pending->done;

        pending->done = NULL; /* answered: the free below must not answer again */
        if (result < 0)
                log_notice("polkit refused %s for %s: %s", pending->action, sd_bus_message_get_sender(m),
                           error && error->message ? error->message : strerror(-result));
        done(pending->context, m, result < 0 ? result : 0, result < 0 ? error : NULL, pending->userdata);
        pending_authorization_free(pending);
}

/* "Detach" → "detach": rules can tell which method a .force check is for. */
static void operation_name(sd_bus_message *m, char *buf, size_t size) {
        const char *member = sd_bus_message_get_member(m) ?: "";
        size_t i;

        for (i = 0; member[i] && i + 1 < size; i++)
                buf[i] = (char) tolower((unsigned char) member[i]);
        buf[i] = '\0';
}

void authorize(struct context *c, sd_bus_message *m, const char *action, const struct authorize_details *details,
               authorize_done_t done, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct pending_authorization *pending;
        char group[16], operation[32], uid[16], user_buf[256];
        const char *keys_values[13];
        size_t n = 0;
        int r;

        snprintf(group, sizeof(group), "%d", details->iommu_group);
        operation_name(m, operation, sizeof(operation));
        keys_values[n++] = POLKIT_DETAIL_DEVICE;
        keys_values[n++] = details->address;
        keys_values[n++] = POLKIT_DETAIL_IOMMU_GROUP;
        keys_values[n++] = group;
        keys_values[n++] = POLKIT_DETAIL_OPERATION;
        keys_values[n++] = operation;
        if (strcmp(operation, "grant") == 0) {
                struct passwd pw, *found = NULL;

                snprintf(uid, sizeof(uid), "%u", (unsigned) details->target_uid);
                keys_values[n++] = POLKIT_DETAIL_UID;
                keys_values[n++] = uid;
                keys_values[n++] = POLKIT_DETAIL_USER;
                keys_values[n++] = getpwuid_r(details->target_uid, &pw, user_buf, sizeof(user_buf), &found) == 0 &&
                                                   found ? found->pw_name : uid;
        }
        keys_values[n] = NULL;

        pending = calloc(1, sizeof(*pending));
        if (!pending || !(pending->action = strdup(action))) {
                free(pending);
                r = sd_bus_error_set_errno(&error, -ENOMEM);
                done(c, m, r, &error, userdata);
                return;
        }
        pending->context = c;
        pending->message = sd_bus_message_ref(m);
        pending->done = done;
        pending->userdata = userdata;

        r = polkit_check_async(c->polkit, m, action, keys_values, on_polkit_answer, pending,
                               pending_authorization_free, &error);
        if (r == 0)
                return; /* on_polkit_answer, or the registry's teardown, takes it from here */

        pending->done = NULL;
        pending_authorization_free(pending);
        if (r < 0) {
                log_notice("Refused %s on %s: %s", action, details->address, error.message ?: strerror(-r));
                done(c, m, r, &error, userdata);
        } else
                done(c, m, 0, NULL, userdata); /* root, as the bus reports it */
}
