/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a command in a private mount namespace where /sys is read-only.
 *
 * The service tests point the daemon at a umockdev testbed; should any path escape the testbed,
 * the write must fail here instead of unbinding a device of the machine running the tests. It also
 * drops CAP_SYS_MODULE from the bounding set: whatever the daemon's libkmod decides, the kernel
 * refuses to load or unload a module for it.
 *
 * With $VFIO_PT_TEST_JOURNAL_DIR (a directory holding a datagram socket named "socket"), that
 * directory is the command's /run/systemd/journal, so what it sends to the journal reaches the
 * test instead of the machine's journal. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        const char *journal;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s COMMAND [ARGS...]\n", argv[0]);
                return 2;
        }

        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "ro-sys-exec: unshare(CLONE_NEWNS): %s (the tests need root)\n", strerror(errno));
                return 125;
        }
        /* Keep our mounts from propagating back to the host's namespace. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("/sys", "/sys", NULL, MS_BIND | MS_REC, NULL) < 0 ||
            mount(NULL, "/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
                fprintf(stderr, "ro-sys-exec: making /sys read-only: %s\n", strerror(errno));
                return 125;
        }

        journal = getenv("VFIO_PT_TEST_JOURNAL_DIR");
        if (journal && *journal) {
                /* A tmpfs over /run/systemd, so the journal directory can be made without touching
                 * the machine's /run. */
                if (mount("tmpfs", "/run/systemd", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 ||
                    mkdir("/run/systemd/journal", 0755) < 0 ||
                    mount(journal, "/run/systemd/journal", NULL, MS_BIND, NULL) < 0) {
                        fprintf(stderr, "ro-sys-exec: redirecting the journal to %s: %s\n", journal, strerror(errno));
                        return 125;
                }
        }

        if (prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) < 0) {
                fprintf(stderr, "ro-sys-exec: dropping CAP_SYS_MODULE: %s\n", strerror(errno));
                return 125;
        }

        execvp(argv[1], argv + 1);
        fprintf(stderr, "ro-sys-exec: %s: %s\n", argv[1], strerror(errno));
        return 127;
}
