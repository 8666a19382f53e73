/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-call.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bus-errors.h"
#include "bus-path.h"
#include "macro.h"
#include "vfio-passthrough-bus.h"

#define PROGRAM "vfio-passthroughctl"

/* A person answering polkit's password prompt, plus an unbind the kernel may hold until the
 * device's user lets go (the daemon gives up on that after its --operation-timeout, 10 s by
 * default, so this is mostly the person's time). */
#define OPERATION_TIMEOUT_USEC (UINT64_C(120) * 1000 * 1000)

static bool has_prefix(const char *s, const char *prefix) {
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

int bus_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_error_add_map(vfio_pt_error_map);
        if (r < 0) {
                fprintf(stderr, PROGRAM ": failed to register error names: %s\n", strerror(-r));
                return -ENOTCONN;
        }

        /* Honours DBUS_SYSTEM_BUS_ADDRESS, which is how the tests point the client at a private bus. */
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, PROGRAM ": cannot connect to the system bus, where vfio-passthroughd is reached: %s\n",
                        strerror(-r));
                return -ENOTCONN;
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_new_method_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        int r;

        r = sd_bus_message_new_method_call(bus, ret, VFIO_PT_BUS_NAME, VFIO_PT_OBJECT_PATH, VFIO_PT_INTERFACE,
                                           member);
        if (r < 0)
                fprintf(stderr, PROGRAM ": failed to create the %s call: %s\n", member, strerror(-r));
        return r;
}

/* Errors that mean the daemon never handled the call: say that, rather than echoing a bus
 * daemon's message that does not name vfio-passthroughd. Returns the errno to pass up, or 0
 * for anything else. */
static int log_unreachable(const sd_bus_error *error, int r, const char *member, bool changes_device) {
        const char *name = error->name;

        if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                fprintf(stderr,
                        PROGRAM ": vfio-passthroughd is not running and could not be started: nothing owns "
                        VFIO_PT_BUS_NAME " on the system bus (%s).\n", name);
        else if (has_prefix(name, "org.freedesktop.DBus.Error.Spawn."))
                fprintf(stderr, PROGRAM ": vfio-passthroughd could not be started: %s (%s)\n",
                        error->message ?: "activation failed", name);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_TIMEOUT) || r == -ETIMEDOUT) {
                /* After a call that changes a device, its state is unknown: say where to look. */
                fprintf(stderr, PROGRAM ": vfio-passthroughd did not answer %s in time%s\n", member,
                        changes_device ? "; check the device with 'vfio-passthroughctl show'." : ".");
                return -ETIMEDOUT;
        } else if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD) ||
                   sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
                   sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_INTERFACE))
                fprintf(stderr, PROGRAM ": vfio-passthroughd does not offer %s; is it older than this client? (%s)\n",
                        member, name);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_DISCONNECTED) || r == -ECONNRESET || r == -ENOTCONN)
                fprintf(stderr, PROGRAM ": lost the connection to the system bus while calling vfio-passthroughd.\n");
        else
                return 0;
        return -EREMOTEIO;
}

/* Refusals, whether from the daemon (polkit, or root only for now) or from the bus policy. The
 * daemon's AccessDenied message says what was refused and what to do; a missing authentication
 * has no useful message, so say why it could not happen. */
static bool log_access_denied(const sd_bus_error *error, sd_bus_message *m) {
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                /* The verb as the user typed it: "Attach" is the method, "attach" the command. */
                char verb[32] = "";
                const char *member = sd_bus_message_get_member(m) ?: "the call";

                for (size_t i = 0; member[i] && i + 1 < sizeof(verb); i++)
                        verb[i] = (char) tolower((unsigned char) member[i]);
                fprintf(stderr, PROGRAM ": %s needs authentication, %s\n", verb,
                        sd_bus_message_get_allow_interactive_authorization(m) > 0
                                ? "but no authentication agent answered."
                                : "but --no-ask-password forbids asking for a password.");
                return true;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED)) {
                fprintf(stderr, PROGRAM ": access denied: %s\n", error->message ?: "the call was refused");
                return true;
        }
        return false;
}

/* What a person at the shell can do about a named error of the daemon, whose messages say what
 * happened but not which command to type: the rest of the error's line. device: the address the
 * call was about. */
static void print_hint(const char *name, const char *device) {
        /* The hint, and the command that follows it with the device (NULL: none). */
        static const struct {
                const char *name;
                const char *hint;
                const char *command;
        } hints[] = {
                { VFIO_PT_ERROR_DEVICE_BUSY,
                  "Stop using it on the host first, or add --force if the host can do without it.", NULL },
                { VFIO_PT_ERROR_NOT_BOUND, "Attach it first:", "attach" },
                { VFIO_PT_ERROR_NO_SUCH_DEVICE, "'vfio-passthroughctl list' shows the devices present.", NULL },
                { VFIO_PT_ERROR_CORRUPT_RECORD, "An administrator can drop the record:", "forget" },
                { VFIO_PT_ERROR_TIMEOUT, "Check the device later:", "show" },
                { VFIO_PT_ERROR_INTERRUPTED, "Once the service is back:", "show" },
                { VFIO_PT_ERROR_RESTORE_MISMATCH, "Then try again:", "restore" },
        };

        for (size_t i = 0; i < ELEMENTSOF(hints); i++) {
                if (!streq_ptr(name, hints[i].name))
                        continue;
                if (hints[i].command)
                        fprintf(stderr, " %s vfio-passthroughctl %s %s", hints[i].hint, hints[i].command, device);
                else
                        fprintf(stderr, " %s", hints[i].hint);
                return;
        }
}

/* The device a call is about: the Device object it was made on, or the first argument of the
 * manager's methods. buf holds the answer. */
static const char *call_device(sd_bus_message *m, char buf[static PCI_ADDRESS_STRING_MAX]) {
        const char *device = NULL;
        struct pci_address a;

        if (bus_device_path_parse(sd_bus_message_get_path(m) ?: "", &a) >= 0)
                return pci_address_format(&a, buf);
        if (sd_bus_message_rewind(m, true) < 0 || !has_prefix(sd_bus_message_get_signature(m, true) ?: "", "s") ||
            sd_bus_message_read(m, "s", &device) < 0)
                return "DEVICE";
        return device ?: "DEVICE";
}

static int call(sd_bus *bus, sd_bus_message *m, bool changes_device, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *member = sd_bus_message_get_member(m);
        int r, unreachable;

        r = sd_bus_call(bus, m, changes_device ? OPERATION_TIMEOUT_USEC : 0, &error, ret_reply);
        if (r >= 0)
                return r;

        /* First, so that the daemon's own Timeout error keeps its message. */
        if (has_prefix(error.name, VFIO_PT_ERROR_PREFIX)) {
                /* Our daemon writes messages meant for people; the name would only be noise. */
                char device[PCI_ADDRESS_STRING_MAX];

                fprintf(stderr, PROGRAM ": %s", error.message ?: error.name);
                print_hint(error.name, call_device(m, device));
                fputc('\n', stderr);
                return r;
        }

        /* A Device object that is not there: the device is not. */
        if (sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                struct pci_address a;
                char device[PCI_ADDRESS_STRING_MAX];

                if (bus_device_path_parse(sd_bus_message_get_path(m) ?: "", &a) >= 0) {
                        fprintf(stderr, PROGRAM ": No PCI device at %s. 'vfio-passthroughctl list' shows the "
                                        "devices present.\n", pci_address_format(&a, device));
                        return -ENODEV;
                }
        }

        unreachable = log_unreachable(&error, r, member, changes_device);
        if (unreachable < 0)
                return unreachable;
        if (log_access_denied(&error, m))
                return -EACCES;

        if (sd_bus_error_is_set(&error))
                fprintf(stderr, PROGRAM ": %s (%s)\n", error.message ?: "call failed", error.name);
        else
                fprintf(stderr, PROGRAM ": calling %s failed: %s\n", member, strerror(-r));
        return -EREMOTEIO;
}

int bus_call(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply) {
        return call(bus, m, false, ret_reply);
}

int bus_call_operation(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply) {
        return call(bus, m, true, ret_reply);
}

int bus_read_dictionary(sd_bus_message *m, int (*read_value)(sd_bus_message *m, const char *key, void *userdata),
                        void *userdata) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read_basic(m, 's', &key);
                if (r >= 0)
                        r = read_value(m, key, userdata);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_log_parse_error(int error) {
        fprintf(stderr, PROGRAM ": cannot understand vfio-passthroughd's reply: %s\n", strerror(-error));
        return -EBADMSG;
}
