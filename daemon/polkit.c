/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "polkit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_OBJECT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_ERROR_PREFIX "org.freedesktop.PolicyKit1.Error."

/* CheckAuthorization flags (polkit's PolkitCheckAuthorizationFlags). */
#define POLKIT_FLAG_ALLOW_USER_INTERACTION UINT32_C(1)

/* A person may be typing a password into an agent while polkit holds the reply: give them time.
 * Without interaction polkit answers at once; the bus default (25 s) then only catches a hang. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (UINT64_C(300) * 1000000)

struct polkit_check {
        struct polkit_registry *registry;
        struct polkit_check *prev, *next;

        sd_bus_message *call; /* the method call being authorized */
        sd_bus_slot *slot;    /* the pending CheckAuthorization */
        char *action;
        bool interactive;

        polkit_done_t done;
        void *userdata;                /* ours until done is called, then done's */
        sd_bus_destroy_t free_userdata;
};

struct polkit_registry {
        struct polkit_check *checks;
        unsigned n_checks;
};

struct polkit_registry *polkit_registry_new(void) {
        return calloc(1, sizeof(struct polkit_registry));
}

static void registry_link(struct polkit_registry *registry, struct polkit_check *check) {
        check->registry = registry;
        check->prev = NULL;
        check->next = registry->checks;
        if (registry->checks)
                registry->checks->prev = check;
        registry->checks = check;
        registry->n_checks++;
}

static void registry_unlink(struct polkit_check *check) {
        struct polkit_registry *registry = check->registry;

        if (!registry)
                return;
        if (check->prev)
                check->prev->next = check->next;
        else
                registry->checks = check->next;
        if (check->next)
                check->next->prev = check->prev;
        registry->n_checks--;
        check->registry = NULL;
        check->prev = check->next = NULL;
}

/* Releases everything a check holds; it must be unlinked already. */
static void check_free(struct polkit_check *check) {
        if (!check)
                return;
        sd_bus_slot_unref(check->slot);
        sd_bus_message_unref(check->call);
        if (check->userdata && check->free_userdata)
                check->free_userdata(check->userdata);
        free(check->action);
        free(check);
}

static void check_freep(struct polkit_check **check) {
        check_free(*check);
}

struct polkit_registry *polkit_registry_free(struct polkit_registry *registry) {
        if (!registry)
                return NULL;
        while (registry->checks) {
                struct polkit_check *check = registry->checks;
                registry_unlink(check);
                check_free(check);
        }
        free(registry);
        return NULL;
}

unsigned polkit_registry_pending(const struct polkit_registry *registry) {
        return registry ? registry->n_checks : 0;
}

/* Whether the bus vouches that the sender's connection has euid 0. Only credentials the bus
 * itself reports count: no SD_BUS_CREDS_AUGMENT, because augmenting reads /proc/<pid> and a pid
 * can be reused or exec a setuid binary between the call and the check. */
static int sender_is_root(sd_bus_message *m) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t euid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        if (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID)
                return 0;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r == -ENODATA)
                return 0; /* the bus does not say: let polkit decide */
        if (r < 0)
                return r;
        return euid == 0;
}

static int append_details(sd_bus_message *q, const char *const *details) {
        int r = sd_bus_message_open_container(q, 'a', "{ss}");
        if (r < 0)
                return r;
        for (const char *const *kv = details; kv && kv[0]; kv += 2) {
                if (!kv[1])
                        return -EINVAL; /* a key without a value: the caller's list is broken */
                r = sd_bus_message_append(q, "{ss}", kv[0], kv[1]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(q);
}

static int new_check_authorization(sd_bus *bus, const char *sender, const char *action, const char *const *details,
                                   bool interactive, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *q = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &q, POLKIT_BUS_NAME, POLKIT_OBJECT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r < 0)
                return r;
        /* The subject: the caller's connection, as the bus knows it. */
        r = sd_bus_message_append(q, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r < 0)
                return r;
        r = append_details(q, details);
        if (r < 0)
                return r;
        /* No cancellation id: a check is dropped only when the daemon stops. */
        r = sd_bus_message_append(q, "us", interactive ? POLKIT_FLAG_ALLOW_USER_INTERACTION : 0, "");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(q);
        return 0;
}

/* Reads polkit's verdict (bba{ss}): is_authorized, is_challenge, details. */
static int read_verdict(sd_bus_message *reply, int *ret_authorized, int *ret_challenge, int *ret_dismissed) {
        int authorized, challenge, dismissed = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *value;
                r = sd_bus_message_read(reply, "{ss}", &key, &value);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (strcmp(key, "polkit.dismissed") == 0 && strcmp(value, "true") == 0)
                        dismissed = 1;
        }
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret_authorized = authorized;
        *ret_challenge = challenge;
        *ret_dismissed = dismissed;
        return 0;
}

/* Turns polkit's reply into 1 (allowed) or a negative errno with error set. Every path that is
 * not an explicit "authorized" from polkit ends in a denial. */
static int judge_reply(const struct polkit_check *check, sd_bus_message *reply, sd_bus_error *error) {
        int authorized, challenge, dismissed;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                /* polkit answered but could not decide (e.g. the caller left the bus) … */
                if (e && e->name && strncmp(e->name, POLKIT_ERROR_PREFIX, strlen(POLKIT_ERROR_PREFIX)) == 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "polkit could not check %s: %s (%s).", check->action,
                                                 e->message ?: "no message", e->name);
                /* … or there is no polkit to ask (not installed, crashed, not answering). */
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "polkit is not available: %s (%s). Without polkit only root is allowed %s.",
                                         e && e->message ? e->message : "no reply",
                                         e && e->name ? e->name : "unknown error", check->action);
        }

        r = read_verdict(reply, &authorized, &challenge, &dismissed);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "polkit sent an unreadable reply for %s: %s.", check->action, strerror(-r));
        if (authorized)
                return 1;
        if (challenge && !check->interactive)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required for %s, and the call did not allow "
                                         "interactive authorization.",
                                         check->action);
        if (dismissed)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Authentication for %s was dismissed.", check->action);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Not authorized by polkit for %s. An administrator can allow it with a polkit "
                                 "rule (see 50-vfio-passthrough-group.rules.example).",
                                 check->action);
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(check_freep) struct polkit_check *check = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int result;

        result = judge_reply(check, reply, &error);
        /* Out of the registry before the callback, so the callback may start new checks. */
        registry_unlink(check);
        check->done(check->call, result, result < 0 ? &error : NULL, TAKE_PTR(check->userdata));
        return 0;
}

int polkit_check_async(struct polkit_registry *registry, sd_bus_message *m, const char *action,
                       const char *const *details, polkit_done_t done, void *userdata,
                       sd_bus_destroy_t free_userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *q = NULL;
        _cleanup_(check_freep) struct polkit_check *check = NULL;
        sd_bus *bus;
        const char *sender;
        int r;

        if (!registry || !m || !action || !done)
                return -EINVAL;
        bus = sd_bus_message_get_bus(m);
        if (!bus)
                return -EINVAL;

        r = sender_is_root(m);
        if (r < 0)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Cannot identify the caller for %s: %s.", action, strerror(-r));
        if (r > 0)
                return 1;

        sender = sd_bus_message_get_sender(m);
        if (!sender) /* a direct connection, not the bus: nothing polkit could identify */
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "The caller has no bus name, so %s cannot be authorized.", action);

        check = calloc(1, sizeof(*check));
        if (!check)
                return sd_bus_error_set_errno(ret_error, -ENOMEM);
        check->action = strdup(action);
        if (!check->action)
                return sd_bus_error_set_errno(ret_error, -ENOMEM);
        check->interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;

        r = new_check_authorization(bus, sender, action, details, check->interactive, &q);
        if (r < 0)
                return sd_bus_error_set_errnof(ret_error, r, "Cannot ask polkit about %s: %s.", action, strerror(-r));
        r = sd_bus_call_async(bus, &check->slot, q, on_check_reply, check,
                              check->interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "polkit is not available: cannot send the request (%s).", strerror(-r));

        /* From here on nothing fails: the check owns the call and the caller's userdata. */
        check->call = sd_bus_message_ref(m);
        check->done = done;
        check->userdata = userdata;
        check->free_userdata = free_userdata;
        registry_link(registry, check);
        TAKE_PTR(check);
        return 0;
}
