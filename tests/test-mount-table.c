/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mountinfo parser: the daemon reads every mount namespace with it, so it sees text that
 * containers and users chose (mount points with spaces, odd sources), and must neither misread a
 * line nor accept one that is not a mountinfo line. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "mount-table.h"

static void test_parse(void) {
        static const struct {
                const char *line;
                unsigned major, minor;
                const char *mount_point, *fstype, *source;
        } cases[] = {
                { "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue", 98, 0, "/mnt2",
                  "ext3", "/dev/root" },
                /* No optional fields, several optional fields. */
                { "21 1 254:0 / / rw,relatime - ext4 /dev/vda rw", 254, 0, "/", "ext4", "/dev/vda" },
                { "30 1 0:45 /@ / rw shared:1 master:2 propagate_from:3 unbindable - btrfs /dev/sda rw,subvol=/@", 0,
                  45, "/", "btrfs", "/dev/sda" },
                /* The kernel's escapes in the mount point and the source. */
                { "40 1 259:3 / /media/My\\040Disk rw - vfat /dev/sd\\134b1 rw", 259, 3, "/media/My Disk", "vfat",
                  "/dev/sd\\b1" },
                { "41 1 0:60 / /srv/share rw - 9p hostshare rw,trans=virtio", 0, 60, "/srv/share", "9p", "hostshare" },
                { "42 1 0:50 / /tank/home rw - zfs tank/home rw", 0, 50, "/tank/home", "zfs", "tank/home" },
                /* An escape that is not one is kept as it is. */
                { "43 1 0:61 / /a\\9b rw - tmpfs tmpfs rw", 0, 61, "/a\\9b", "tmpfs", "tmpfs" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                struct mount_entry m = {};

                g_test_message("%s", cases[i].line);
                g_assert_cmpint(mount_entry_parse(cases[i].line, &m), ==, 0);
                g_assert_cmpuint(m.major, ==, cases[i].major);
                g_assert_cmpuint(m.minor, ==, cases[i].minor);
                g_assert_cmpstr(m.mount_point, ==, cases[i].mount_point);
                g_assert_cmpstr(m.fstype, ==, cases[i].fstype);
                g_assert_cmpstr(m.source, ==, cases[i].source);
                g_assert_cmpint(m.namespace_pid, ==, 0);
                mount_entry_done(&m);
        }
}

static void test_reject(void) {
        static const char *const lines[] = {
                "",
                "36",
                "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw", /* no separator */
                "36 35 98:0 /mnt1 /mnt2 rw - ext3",                             /* no source */
                "36 35 98-0 /mnt1 /mnt2 rw - ext3 /dev/root rw",                /* no major:minor */
                "36 35 98:0 /mnt1",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
                struct mount_entry m = {};

                g_test_message("'%s'", lines[i]);
                g_assert_cmpint(mount_entry_parse(lines[i], &m), ==, -EBADMSG);
                g_assert_null(m.mount_point);
        }
}

static void test_unescape(void) {
        g_autofree char *a = mountinfo_unescape("/swap\\040file", strlen("/swap\\040file"));
        g_autofree char *b = mountinfo_unescape("tab\\011nl\\012bs\\134", strlen("tab\\011nl\\012bs\\134"));
        /* Only the first n bytes, and a cut escape stays as it is. */
        g_autofree char *c = mountinfo_unescape("/x\\04", strlen("/x\\04"));
        g_autofree char *d = mountinfo_unescape("/dev/sda partition", strlen("/dev/sda"));

        g_assert_cmpstr(a, ==, "/swap file");
        g_assert_cmpstr(b, ==, "tab\tnl\nbs\\");
        g_assert_cmpstr(c, ==, "/x\\04");
        g_assert_cmpstr(d, ==, "/dev/sda");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/mount-table/parse", test_parse);
        g_test_add_func("/mount-table/reject", test_reject);
        g_test_add_func("/mount-table/unescape", test_unescape);
        return g_test_run();
}
