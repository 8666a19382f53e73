/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-call.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-errors.h"
#include "bus-path.h"
#include "log.h"
#include "macro.h"
#include "vfio-passthrough-bus.h"

/* Where sd-bus looks without DBUS_SYSTEM_BUS_ADDRESS. */
#define DEFAULT_SYSTEM_BUS_ADDRESS "unix:path=/run/dbus/system_bus_socket"

/* Installed by polkit/meson.build; not enabled, an administrator copies it. */
#define EXAMPLE_RULE "/usr/share/doc/vfio-passthrough/examples/50-vfio-passthrough-group.rules.example"

#define SERVICE_STATUS_HINT "'systemctl status vfio-passthroughd' and 'journalctl -u vfio-passthroughd' tell why."

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
                log_error(NULL, "failed to register error names: %s", strerror(-r));
                return -ENOTCONN;
        }

        /* Honours DBUS_SYSTEM_BUS_ADDRESS, which is how the tests point the client at a private bus.
         * A missing or refusing socket fails here, before any call: no bus at all, as opposed to
         * a bus without the daemon, which only the first call finds out. */
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");

                log_error_hint(SD_BUS_ERROR_NO_SERVER,
                               "Is D-Bus running? 'systemctl start dbus' starts it.",
                               "cannot connect to the system bus at %s: %s.",
                               address && *address ? address : DEFAULT_SYSTEM_BUS_ADDRESS, strerror(-r));
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
                log_error(NULL, "failed to create the %s call: %s", member, strerror(-r));
        return r;
}

/* Errors that mean the daemon never handled the call: say that, rather than echoing a bus
 * daemon's message that does not name vfio-passthroughd. Returns the errno to pass up, or 0
 * for anything else. */
static int log_unreachable(const sd_bus_error *error, int r, const char *member, bool changes_device) {
        const char *name = error->name;

        if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                /* The bus is there (bus_connect() got that far), the daemon is not. */
                log_error_hint(name,
                               "Is the vfio-passthrough package installed? 'systemctl status vfio-passthroughd' "
                               "tells more.",
                               "vfio-passthroughd is not running and could not be activated: nothing owns "
                               VFIO_PT_BUS_NAME " on the system bus (%s).", name);
        else if (has_prefix(name, "org.freedesktop.DBus.Error.Spawn."))
                log_error_hint(name, SERVICE_STATUS_HINT, "vfio-passthroughd could not be started: %s (%s).",
                               error->message ?: "activation failed", name);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_TIMEOUT) || r == -ETIMEDOUT) {
                /* After a call that changes a device, its state is unknown: say where to look. */
                log_error_hint(name ?: SD_BUS_ERROR_TIMEOUT,
                               changes_device ? "Check the device with 'vfio-passthroughctl show'." : NULL,
                               "vfio-passthroughd did not answer %s in time.", member);
                return -ETIMEDOUT;
        } else if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD) ||
                   sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
                   sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_INTERFACE))
                log_error_hint(name, "Is it older than this client? 'systemctl restart vfio-passthroughd' after an "
                               "upgrade.", "vfio-passthroughd does not offer %s (%s).", member, name);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_DISCONNECTED) || r == -ECONNRESET || r == -ENOTCONN)
                log_error_hint(name ?: SD_BUS_ERROR_DISCONNECTED, SERVICE_STATUS_HINT,
                               "lost the connection to the system bus while calling vfio-passthroughd.");
        else
                return 0;
        return -EREMOTEIO;
}

/* Refusals, whether from the daemon (polkit, or root only for now) or from the bus policy. The
 * daemon's AccessDenied message says what was refused; the hint says who can change that. A
 * missing authentication has no useful message, so say why it could not happen. */
static bool log_access_denied(const sd_bus_error *error, sd_bus_message *m) {
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                /* The verb as the user typed it: "Attach" is the method, "attach" the command. */
                char verb[32] = "";
                const char *member = sd_bus_message_get_member(m) ?: "the call";
                bool may_ask = sd_bus_message_get_allow_interactive_authorization(m) > 0;

                for (size_t i = 0; member[i] && i + 1 < sizeof(verb); i++)
                        verb[i] = (char) tolower((unsigned char) member[i]);
                log_error_hint(error->name,
                               may_ask ? "Run it on a terminal, where it asks for the password itself, or in a "
                                         "desktop session with a polkit agent."
                                       : "Leave out --no-ask-password to be asked.",
                               "%s needs authentication, %s", verb,
                               may_ask ? "but no authentication agent answered."
                                       : "but --no-ask-password forbids asking for a password.");
                return true;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED)) {
                log_error_hint(error->name,
                               "An administrator can allow it with a polkit rule (vfio-passthroughd(8) names the "
                               "actions; an example: " EXAMPLE_RULE ").",
                               "access denied: %s", error->message ?: "the call was refused");
                return true;
        }
        return false;
}

/* What a person at the shell can do about a named error of the daemon, whose messages say what
 * happened but not which command to type: the rest of the error's line, written to buf.
 * device: the address the call was about. Returns NULL when there is nothing to add. */
static const char *format_hint(const char *name, const char *device, char *buf, size_t size) {
        /* The hint, and the command that follows it with the device (NULL: none). */
        static const struct {
                const char *name;
                const char *hint;
                const char *command;
        } hints[] = {
                { VFIO_PT_ERROR_DEVICE_BUSY,
                  "Stop using it on the host first, or add --force if the host can do without it.", NULL },
                { VFIO_PT_ERROR_GROUP_NOT_VIABLE, "Its members and what blocks them:", "show" },
                { VFIO_PT_ERROR_NOT_BOUND, "Attach it first:", "attach" },
                { VFIO_PT_ERROR_NOT_MANAGED, "Its driver now:", "show" },
                { VFIO_PT_ERROR_NO_SUCH_DEVICE, "'vfio-passthroughctl list' shows the devices present.", NULL },
                { VFIO_PT_ERROR_NO_SUCH_USER, "'getent passwd' lists the users.", NULL },
                { VFIO_PT_ERROR_MODULE_NOT_AVAILABLE,
                  "Install the kernel's modules package, or drop vfio-pci from the modprobe blacklists "
                  "('modprobe -c | grep vfio').", NULL },
                { VFIO_PT_ERROR_CORRUPT_RECORD, "An administrator can drop the record:", "forget" },
                { VFIO_PT_ERROR_OPERATION_FAILED, "'journalctl -u vfio-passthroughd' has the details.", NULL },
                { VFIO_PT_ERROR_TIMEOUT, "Check the device later:", "show" },
                { VFIO_PT_ERROR_INTERRUPTED, "Once the service is back:", "show" },
                { VFIO_PT_ERROR_RESTORE_MISMATCH, "Then try again:", "restore" },
        };

        for (size_t i = 0; i < ELEMENTSOF(hints); i++) {
                if (!streq_ptr(name, hints[i].name))
                        continue;
                if (!hints[i].command)
                        return hints[i].hint;
                snprintf(buf, size, "%s vfio-passthroughctl %s %s", hints[i].hint, hints[i].command, device);
                return buf;
        }
        return NULL;
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
                char device[PCI_ADDRESS_STRING_MAX], hint[256];

                log_error_hint(error.name, format_hint(error.name, call_device(m, device), hint, sizeof(hint)), "%s",
                               error.message ?: error.name);
                return r;
        }

        /* A Device object that is not there: the device is not. */
        if (sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                struct pci_address a;
                char device[PCI_ADDRESS_STRING_MAX];

                if (bus_device_path_parse(sd_bus_message_get_path(m) ?: "", &a) >= 0) {
                        log_error(VFIO_PT_ERROR_NO_SUCH_DEVICE,
                                  "No PCI device at %s. 'vfio-passthroughctl list' shows the devices present.",
                                  pci_address_format(&a, device));
                        return -ENODEV;
                }
        }

        unreachable = log_unreachable(&error, r, member, changes_device);
        if (unreachable < 0)
                return unreachable;
        if (log_access_denied(&error, m))
                return -EACCES;

        if (sd_bus_error_is_set(&error))
                log_error(error.name, "%s (%s)", error.message ?: "call failed", error.name);
        else
                log_error(NULL, "calling %s failed: %s", member, strerror(-r));
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
        log_error(SD_BUS_ERROR_INCONSISTENT_MESSAGE, "cannot understand vfio-passthroughd's reply: %s", strerror(-error));
        return -EBADMSG;
}
