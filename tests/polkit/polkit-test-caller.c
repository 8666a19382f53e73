/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls one privileged method the way a client would and prints the outcome on one line:
 *   ok <first string of the reply>
 *   error <D-Bus error name>: <message>
 * busctl prints only an error's message; the tests need its name.
 *
 *   polkit-test-caller [--interactive] [--drop-to=UID | --connect-as=UID] [--repeat=N] METHOD DEVICE [USER] FLAGS
 *
 * --repeat=N sends the call N times at once on one connection, waits for every answer and prints
 * one line per kind of outcome, "ok COUNT" or "error NAME COUNT", sorted.
 *
 * --drop-to=UID connects first and then changes the process' uids, so the call is sent by a
 * process that is UID now over a connection that the bus knows as the connecting user.
 *
 * --connect-as=UID (run as root) is the other way round: it connects with UID as its effective
 * uid and takes root back before calling, so a root process sends the call over a connection the
 * bus knows as UID — as when a setuid-root program is handed an unprivileged user's connection,
 * or a pid's /proc entry is read after the process gained privileges. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "macro.h"
#include "vfio-passthrough-bus.h"

static int drop_to(uid_t uid) {
        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                return negative_errno();
        return 0;
}

static int connect_as(uid_t uid, sd_bus **ret) {
        const char *unique;
        int r;

        if (setegid((gid_t) uid) < 0 || seteuid(uid) < 0)
                return negative_errno();
        r = sd_bus_open_system(ret);
        /* The bus takes the peer's credentials at connect() and checks them during the
         * authentication: finish both (Hello included) before becoming root again. */
        if (r >= 0)
                r = sd_bus_get_unique_name(*ret, &unique);
        if (seteuid(0) < 0 || setegid(0) < 0)
                return negative_errno();
        return r;
}

/* --repeat: how the answers came out. */
struct tally {
        const char *names[16];
        unsigned counts[16];
        size_t n;
        unsigned pending;
};

static int on_repeated_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct tally *t = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *name = e ? e->name : "ok";
        size_t i;

        for (i = 0; i < t->n && strcmp(t->names[i], name) != 0; i++)
                ;
        if (i == t->n && t->n < 16)
                t->names[t->n++] = strdup(name);
        if (i < 16)
                t->counts[i]++;
        t->pending--;
        return 0;
}

static int repeat_call(sd_bus *bus, sd_bus_message *call, unsigned n) {
        struct tally t = {};
        int r;

        for (unsigned k = 0; k < n; k++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *copy = NULL;

                /* A sent message is sealed: each call needs its own. */
                r = sd_bus_message_new_method_call(bus, &copy, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH,
                                                   VFIO_PT_INTERFACE, sd_bus_message_get_member(call));
                if (r >= 0)
                        r = sd_bus_message_rewind(call, true);
                if (r >= 0)
                        r = sd_bus_message_copy(copy, call, true);
                if (r >= 0)
                        r = sd_bus_call_async(bus, NULL, copy, on_repeated_reply, &t, 60 * UINT64_C(1000000));
                if (r < 0)
                        return r;
                t.pending++;
        }
        while (t.pending > 0) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
                        return r;
        }
        for (size_t i = 0; i < t.n; i++) {
                printf(strcmp(t.names[i], "ok") == 0 ? "%s %u\n" : "error %s %u\n", t.names[i], t.counts[i]);
                free((char *) t.names[i]);
        }
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        bool interactive = false;
        long drop_uid = -1, connect_uid = -1, repeat = 0;
        const char *method, *text;
        int i = 1, r;

        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--interactive") == 0)
                        interactive = true;
                else if (strncmp(argv[i], "--drop-to=", 10) == 0)
                        drop_uid = strtol(argv[i] + 10, NULL, 10);
                else if (strncmp(argv[i], "--connect-as=", 13) == 0)
                        connect_uid = strtol(argv[i] + 13, NULL, 10);
                else if (strncmp(argv[i], "--repeat=", 9) == 0)
                        repeat = strtol(argv[i] + 9, NULL, 10);
                else
                        return 2;
        }
        if (argc - i < 3)
                return 2;
        method = argv[i];

        r = connect_uid >= 0 ? connect_as((uid_t) connect_uid, &bus) : sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "connect: %s\n", strerror(-r));
                return 1;
        }
        if (drop_uid >= 0) {
                r = drop_to((uid_t) drop_uid);
                if (r < 0) {
                        fprintf(stderr, "drop: %s\n", strerror(-r));
                        return 1;
                }
        }

        r = sd_bus_message_new_method_call(bus, &call, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                           method);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(call, interactive);
        if (r >= 0 && strcmp(method, "Grant") == 0 && argc - i == 4)
                r = sd_bus_message_append(call, "sst", argv[i + 1], argv[i + 2],
                                          (uint64_t) strtoull(argv[i + 3], NULL, 0));
        else if (r >= 0 && argc - i == 3)
                r = sd_bus_message_append(call, "st", argv[i + 1], (uint64_t) strtoull(argv[i + 2], NULL, 0));
        else if (r >= 0)
                return 2;
        if (r < 0) {
                fprintf(stderr, "message: %s\n", strerror(-r));
                return 1;
        }

        if (repeat > 0) {
                r = sd_bus_message_seal(call, 1, 0);
                if (r >= 0)
                        r = repeat_call(bus, call, (unsigned) repeat);
                if (r < 0) {
                        fprintf(stderr, "repeat: %s\n", strerror(-r));
                        return 1;
                }
                return 0;
        }

        r = sd_bus_call(bus, call, 60 * UINT64_C(1000000), &error, &reply);
        if (r < 0) {
                printf("error %s: %s\n", error.name ?: "(none)", error.message ?: strerror(-r));
                return 0;
        }
        if (sd_bus_message_is_empty(reply)) {
                printf("ok -\n");
                return 0;
        }
        r = sd_bus_message_read(reply, "s", &text);
        printf("ok %s\n", r < 0 ? "(unreadable reply)" : text);
        return 0;
}
