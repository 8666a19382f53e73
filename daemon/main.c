/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <libudev.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-api.h"
#include "bus-errors.h"
#include "context.h"
#include "log.h"
#include "macro.h"
#include "udev-watch.h"
#include "vfio-passthrough-bus.h"

static void help(void) {
        printf("Usage: vfio-passthroughd [OPTIONS]\n"
               "\n"
               "System service that moves PCI devices between their host drivers and vfio-pci\n"
               "on behalf of unprivileged callers, over D-Bus as %s.\n"
               "It is normally started by D-Bus activation, not by hand.\n"
               "\n"
               "Options:\n"
               "  -h --help       Show this help and exit\n"
               "     --version    Show the version and exit\n"
               "\n"
               "Environment:\n"
               "  DBUS_SYSTEM_BUS_ADDRESS   Connect to this bus instead of the system bus\n"
               "  VFIO_PASSTHROUGHD_DEBUG   Log debug messages too\n"
               "\n"
               "See vfio-passthroughd(8).\n",
               VFIO_PT_BUS_NAME);
}

/* Returns 1 to run, 0 to exit successfully, negative errno on bad usage. */
static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("vfio-passthroughd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "vfio-passthroughd takes no arguments; see --help.\n");
                return -EINVAL;
        }
        return 1;
}

static int context_setup(struct context *c) {
        sigset_t mask;
        int r;

        r = sd_event_default(&c->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(negative_errno(), "Failed to block signals");
        r = sd_event_add_signal(c->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(c->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to handle termination signals");

        c->udev = udev_new();
        if (!c->udev)
                return log_error_errno(-ENOMEM, "Failed to allocate a udev context");
        c->hwdb = udev_hwdb_new(c->udev);
        if (!c->hwdb)
                log_warning("No udev hardware database found; devices will be listed without names.");

        r = sd_bus_error_add_map(vfio_pt_error_map);
        if (r < 0)
                return log_error_errno(r, "Failed to register error names");

        /* Honours DBUS_SYSTEM_BUS_ADDRESS, which is how the tests point the daemon at a private bus. */
        r = sd_bus_open_system(&c->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus");
        r = bus_api_register(c);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(c->bus, c->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop");
        r = sd_bus_set_exit_on_disconnect(c->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to arrange exit on bus disconnect");

        r = udev_watch_start(c);
        if (r < 0)
                return r;

        /* Last: once the name is ours, callers may arrive, so everything must be ready. */
        r = sd_bus_request_name(c->bus, VFIO_PT_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s", VFIO_PT_BUS_NAME);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(context_done) struct context c = {};
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = context_setup(&c);
        if (r < 0)
                return EXIT_FAILURE;

        log_info("vfio-passthroughd %s running as %s.", PACKAGE_VERSION, VFIO_PT_BUS_NAME);
        r = sd_event_loop(c.event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed"), EXIT_FAILURE;
        log_info("vfio-passthroughd stopping.");
        return EXIT_SUCCESS;
}
