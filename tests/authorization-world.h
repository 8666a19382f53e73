/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the authorization tests share: the real daemon (under umockdev, with the kernel emulator)
 * and the real polkitd on one private bus, with the shipped example rule; callers that really run
 * as the test users (polkitd.h), through polkit-test-caller. */

#include <gio/gio.h>

#include "harness.h"
#include "polkitd.h"

#define DEVICE "0000:59:00.0"  /* igb, IOMMU group 6 */
#define DEVICE2 "0000:59:00.1" /* its twin, group 7 */
#define HOST_DRIVER "igb"
#define GROUP_NODE "vfio/6"
#define OTHER_USER "nobody" /* somebody who is none of the callers */
#define OTHER_UID 65534

/* polkit-test-caller's verdicts: "ok …" or "error NAME: message". */
#define OK "ok "
#define ACCESS_DENIED "error org.freedesktop.DBus.Error.AccessDenied: "
#define INTERACTIVE_REQUIRED "error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: "
#define NO_POLKIT ACCESS_DENIED "polkit is not available"


/* The polkit configuration a caller meets. */
enum world {
        WORLD_EXAMPLE_RULE,    /* the shipped example rule installed; callers outside any session */
        WORLD_ACTIVE_SESSION,  /* … and callers treated as sitting in an active local session */
        WORLD_WITHOUT_POLKITD, /* polkit installed (its bus policy is there) but polkitd not running */
};

typedef struct {
        struct harness h;
        char *root; /* the testbed's root directory */
        char *example_rule;
} Fixture;

/* extra_rules: more file name/text pairs for polkitd (NULL-terminated; may be NULL). */
void start_world(Fixture *f, enum world world, const char *const *extra_rules);
/* The same with harness options of the test's own (a cdev kernel, a preloaded library). */
void start_world_with(Fixture *f, enum world world, const char *const *extra_rules,
                      const struct harness_options *options);
void stop_world(Fixture *f);
void fixture_teardown(Fixture *f, gconstpointer data);

void settle(Fixture *f);
/* The group node GROUP_NODE is granted to uid by an ACL entry, and still root's. */
void assert_granted(Fixture *f, uid_t uid);

/* The harness' caller for user (NULL: root, the test's own identity). */
const struct harness_caller *caller_for(const char *user, struct harness_caller *buf);
/* Runs polkit-test-caller as user with extra options (NULL-terminated) and returns its verdict. */
char *call_with(Fixture *f, const char *user, const char *const *options, const char *method, const char *device,
                const char *grant_to, const char *flags);
char *call_as(Fixture *f, const char *user, gboolean interactive, const char *method, const char *device,
              const char *grant_to, const char *flags);

#define assert_prefix(text, prefix)                                                                \
        do {                                                                                       \
                if (!g_str_has_prefix((text), (prefix)))                                           \
                        g_error("expected \"%s…\", got \"%s\"", (prefix), (text));                 \
        } while (0)

#define assert_contains(text, needle)                                                              \
        do {                                                                                       \
                if (!strstr((text), (needle)))                                                     \
                        g_error("expected \"%s\" in \"%s\"", (needle), (text));                    \
        } while (0)

/* Root puts device on vfio-pci, for the calls that need it there. */
void attach_as_root(Fixture *f, const char *device);
/* ... as if user (NULL: root) had attached it: the device is the caller's own. */
void attach_for(Fixture *f, const char *device, const char *user);
