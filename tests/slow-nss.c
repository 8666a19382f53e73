/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preloaded into the daemon by a test: makes the user-name lookup of one user ($VFIO_PT_TEST_SLOW_USER)
 * take seconds, as an LDAP or sssd backend that does not answer would, to show that the daemon
 * keeps answering everyone else meanwhile. */
#include <dlfcn.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOW_SECONDS 3

typedef int (*getpwnam_r_t)(const char *, struct passwd *, char *, size_t, struct passwd **);

int getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen, struct passwd **result) {
        getpwnam_r_t real = (getpwnam_r_t) dlsym(RTLD_NEXT, "getpwnam_r");
        const char *slow = getenv("VFIO_PT_TEST_SLOW_USER");

        if (slow && strcmp(name, slow) == 0)
                sleep(SLOW_SECONDS);
        return real(name, pwd, buf, buflen, result);
}
