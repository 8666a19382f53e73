/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <umockdev.h>

#include "kernel-emulator.h"
#include "private-bus.h"

/* How a harness differs from the plain read-only one of harness_start(). */
struct harness_options {
        gboolean emulate_kernel;   /* run the kernel emulator; the daemon gets --state-dir and --kmod-dir */
        gboolean cdev_kernel;      /* the emulated kernel has the VFIO device cdev */
        gboolean without_vfio_pci; /* vfio-pci not loaded, and libkmod finds no module to load */
        int operation_timeout;     /* --operation-timeout=SEC; 0: the daemon's default */
        gboolean with_polkit;      /* the real polkitd on the bus, deciding with the project's .policy */
        const char *const *polkit_rules; /* its rules: file name, text, …, NULL (see polkitd_start()) */
        const char *daemon_preload;       /* a library preloaded into the daemon as well (NULL: none) */
        const char *const *daemon_env;    /* more NAME=VALUE for the daemon's environment (NULL: none) */
        gboolean capture_journal;          /* the daemon's journal entries come to the test */
        /* Adds more to the tree before the daemon starts. */
        void (*populate)(UMockdevTestbed *testbed, const void *populate_data);
        const void *populate_data;
        gboolean without_default_tree; /* only what populate adds */
};

/* One private world per test: a umockdev testbed holding the fake PCI tree, a private
 * dbus-daemon configured like the system bus, optionally the real polkitd on it, and the real
 * vfio-passthroughd on it, in a mount namespace where the host's /sys is read-only. */
struct harness {
        UMockdevTestbed *testbed;
        char *tmpdir;
        struct private_bus bus;
        GPid polkitd_pid; /* 0 unless options.with_polkit */
        GPid daemon_pid;
        char *daemon_log; /* the daemon's stderr */
        struct harness_options options;
        struct kernel_emulator *emulator; /* NULL unless options.emulate_kernel */
        char *state_dir;
        char *kmod_dir;
        int journal_fd; /* with options.capture_journal: the socket the daemon's journal entries reach */
};

void harness_start(struct harness *h);
void harness_stop(struct harness *h);
void harness_start_with(struct harness *h, const struct harness_options *options);

/* Kills the daemon with SIGKILL, as a crash would, and starts it again on the same testbed and
 * state directory. */
void harness_restart_daemon(struct harness *h);

/* The daemon's extra environment (NAME=VALUE, …, NULL) from its next start on; NULL for none. */
void harness_set_daemon_env(struct harness *h, const char *const *env);

/* Waits (bounded) for the daemon to exit by itself; returns its wait status. */
int harness_wait_daemon_exit(struct harness *h);

/* Starts the daemon again after it exited, once the bus has dropped its name. */
void harness_start_daemon(struct harness *h);

/* Kills polkitd, as a crash would; the daemon stays up. */
void harness_kill_polkitd(struct harness *h);

/* Who runs a client tool: uid (0 keeps the test's own; a user's groups come with it), and the
 * RLIMIT_MEMLOCK it runs with (0 keeps the test's own). */
struct harness_caller {
        uid_t uid;
        rlim_t memlock;
};

/* Stops the daemon with SIGTERM and asserts that it exits cleanly; the bus stays up. */
void harness_stop_daemon(struct harness *h);

/* Run vfio-passthroughctl or busctl against the harness' bus, as caller (NULL: as the test
 * itself). Return the exit status. */
int harness_run_ctl_as(struct harness *h, const struct harness_caller *caller, char **ret_stdout,
                       char **ret_stderr, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
int harness_run_busctl_as(struct harness *h, const struct harness_caller *caller, char **ret_stdout,
                          char **ret_stderr, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
#define harness_run_ctl(h, ret_stdout, ret_stderr, ...) harness_run_ctl_as(h, NULL, ret_stdout, ret_stderr, __VA_ARGS__)
#define harness_run_busctl(h, ret_stdout, ret_stderr, ...) \
        harness_run_busctl_as(h, NULL, ret_stdout, ret_stderr, __VA_ARGS__)

/* Asserts that a call failed with the named D-Bus error. */
void assert_dbus_error(GError *error, const char *name);

/* Runs argv (searched in PATH) as caller (NULL: the test's own identity) against the harness'
 * bus, without umockdev. Returns the exit status. */
int harness_run_as(struct harness *h, const struct harness_caller *caller, const char *const *argv,
                   char **ret_stdout, char **ret_stderr);

/* Calls a method of the daemon; returns the reply or NULL with *error set. */
GVariant *harness_call(struct harness *h, const char *method, GVariant *parameters, const char *reply_type,
                       GError **error);

/* What the testbed says now: the driver a device of the fake tree is bound to ("" for none), read
 * from its driver link, and its driver_override file as the kernel would print it. */
char *harness_device_driver(struct harness *h, const char *address);
char *harness_device_override(struct harness *h, const char *address);

/* All that a privileged call could change: each fake device's driver and driver_override, the
 * /dev/vfio nodes (owner, mode) and the daemon's state directory, as text. Settles the kernel
 * emulator first. */
char *harness_snapshot(struct harness *h);

/* What a test compares after a call that must have been refused. */
struct harness_before {
        char *snapshot;
        char *journal;
};
void harness_remember(struct harness *h, struct harness_before *before);
/* Asserts the snapshot is the same, and that not one more write reached the emulated kernel;
 * frees before's contents. */
void harness_assert_nothing_changed(struct harness *h, struct harness_before *before);

/* The daemon's record of a device (its state file), as text; NULL when there is none. */
char *harness_record(struct harness *h, const char *address);
/* Writes a record, as a crash, an admin or an older daemon might have left it. */
void harness_write_record(struct harness *h, const char *address, const char *text);
/* Makes uid the owner in a device's record: "the device this user attached earlier". */
void harness_set_record_owner(struct harness *h, const char *address, uid_t uid);

/* Whether a node of the testbed's /dev ("vfio/6") lets uid read and write through an ACL entry of
 * its own (the mask included), and who owns it. */
gboolean harness_node_acl_grants(struct harness *h, const char *node, uid_t uid);
/* How many named-user entries its ACL has. */
guint harness_node_acl_users(struct harness *h, const char *node);
uid_t harness_node_owner(struct harness *h, const char *node);

/* The journal entries the daemon sent since the last call, each as its fields, "KEY=VALUE" lines
 * (with options.capture_journal). */
GPtrArray *harness_journal_entries(struct harness *h);

/* Whether the daemon process is still alive (it must survive every bad input). */
gboolean harness_daemon_alive(struct harness *h);

/* The daemon's log so far. */
char *harness_daemon_log(struct harness *h);
