/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-use protection: every kind of thing the host keeps on a PCI function, set up in the
 * testbed the way the kernel shows it, must (1) be named by DescribeDevice's HostUse before anyone
 * tries, and (2) make Detach and Attach refuse with DeviceBusy, naming the holder, with nothing
 * changed: not the (emulated) sysfs, not /dev/vfio, not the state directory, and no write reaching
 * the emulated kernel. FORCE passes where the test shows it.
 *
 * The daemon reads /proc as well as /sys. umockdev serves the files a test puts under the
 * testbed's /proc (mountinfo, swaps) in place of the real ones; everything else in /proc stays
 * the kernel's, so the real mounts of this machine are in the daemon's view too. Fake block
 * devices use the majors 60-63, which Linux reserves for local use and never hands out, so no real
 * mount can ever point at them. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "kernel-emulator.h"
#include "pci-tree.h"
#include "test-process.h"
#include "vfio-passthrough-bus.h"

#define NVME "0000:02:00.0" /* nvme, IOMMU group 9, behind the root port 00:1d.0 */
#define SATA "0000:00:17.0" /* ahci, group 4 */
#define NIC "0000:59:00.0"  /* igb, group 6 */
#define VIRTIO_9P "0000:00:05.0"
#define VIRTIO_FS "0000:00:06.0"
#define VF "0000:59:10.0"

typedef struct {
        struct harness h;
        char *nvme_disk; /* syspaths, once a test made them */
        char *sata_disk;
} Fixture;

static const struct harness_options plain_kernel = { .emulate_kernel = TRUE };

static void fixture_setup(Fixture *f, gconstpointer data) {
        harness_start_with(&f->h, &plain_kernel);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_autofree char *journal = kernel_emulator_journal(f->h.emulator);
        g_autofree char *log = harness_daemon_log(&f->h);

        if (g_test_failed())
                g_printerr("--- emulator journal ---\n%s--- daemon log ---\n%s\n", journal, log);
        g_assert_true(harness_daemon_alive(&f->h));
        harness_stop(&f->h);
        g_free(f->nvme_disk);
        g_free(f->sata_disk);
}

/* --- the machine's storage ------------------------------------------------------------------- */

/* The NVMe drive's namespace nvme0n1 (61:0) and, when asked, its partitions nvme0n1pN (61:N). */
static const char *nvme_disk(Fixture *f) {
        if (!f->nvme_disk)
                f->nvme_disk = fake_pci_nvme_namespace_add(f->h.testbed, NVME, "61:0");
        return f->nvme_disk;
}

static char *nvme_partition(Fixture *f, unsigned n, const char *const *properties) {
        g_autofree char *name = g_strdup_printf("nvme0n1p%u", n);
        g_autofree char *dev = g_strdup_printf("61:%u", n);
        return fake_block_partition_add(f->h.testbed, nvme_disk(f), name, dev, properties);
}

/* The SATA disk sda (61:16) behind the AHCI controller, as the SCSI layer nests it. */
static const char *sata_disk(Fixture *f) {
        g_autofree char *ahci = fake_pci_device_syspath(SATA);
        if (!f->sata_disk)
                f->sata_disk = fake_block_device_add(f->h.testbed, ahci, "ata1/host0/target0:0:0/0:0:0:0/block/sda",
                                                     "61:16", NULL);
        return f->sata_disk;
}

/* The daemon's own mount namespace, as /proc/self/mountinfo shows it. */
static void mounts(Fixture *f, const char *lines) {
        g_autofree char *text = g_strdup_printf("1 0 0:2 / / rw - rootfs rootfs rw\n%s", lines);
        fake_proc_file(f->h.testbed, "self/mountinfo", text);
}

static void swaps(Fixture *f, const char *lines) {
        g_autofree char *text = g_strdup_printf("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n%s", lines);
        fake_proc_file(f->h.testbed, "swaps", text);
}

/* --- asking the daemon ----------------------------------------------------------------------- */

/* HostUse of DescribeDevice for the device: "" when free. */
static char *host_use(Fixture *f, const char *address) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = harness_call(&f->h, "DescribeDevice", g_variant_new("(s)", address),
                                                 "(a{sv}ibaa{sv})", &error);
        g_autoptr(GVariant) device = NULL;
        const char *s;

        g_assert_no_error(error);
        device = g_variant_get_child_value(reply, 0);
        g_assert_true(g_variant_lookup(device, VFIO_PT_KEY_HOST_USE, "&s", &s));
        g_test_message("HostUse of %s: %s", address, s);
        return g_strdup(s);
}

static void assert_host_use(Fixture *f, const char *address, const char *expected) {
        g_autofree char *s = host_use(f, address);
        if (!strstr(s, expected))
                g_error("HostUse of %s is '%s', expected it to contain '%s'", address, s, expected);
}

static void assert_free(Fixture *f, const char *address) {
        g_autofree char *s = host_use(f, address);
        g_assert_cmpstr(s, ==, "");
}

static GVariant *call(Fixture *f, const char *method, const char *address, guint64 flags, GError **error) {
        GVariant *r = harness_call(&f->h, method, g_variant_new("(st)", address, flags), NULL, error);
        kernel_emulator_settle(f->h.emulator);
        return r;
}

/* The driver and override of a device outside the emulated tree (an extra device). */
static void assert_extra_untouched(Fixture *f, const char *address) {
        g_autofree char *driver = harness_device_driver(&f->h, address);
        g_autofree char *override = harness_device_override(&f->h, address);

        g_assert_cmpstr(driver, ==, fake_pci_extra_device(address)->driver);
        g_assert_cmpstr(override, ==, "(null)");
}

/* Detach and Attach of address both refused as DeviceBusy, their message containing holder, and
 * nothing changed by either. */
static void assert_refused(Fixture *f, const char *address, guint64 flags, const char *holder) {
        static const char *const methods[] = { "Detach", "Attach" };

        for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;
                struct harness_before before;

                harness_remember(&f->h, &before);
                reply = call(f, methods[i], address, flags, &error);
                assert_dbus_error(error, VFIO_PT_ERROR_DEVICE_BUSY);
                if (!strstr(error->message, holder))
                        g_error("%s of %s: '%s' does not name '%s'", methods[i], address, error->message, holder);
                harness_assert_nothing_changed(&f->h, &before);
        }
}

static void attach_forced(Fixture *f, const char *address) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = call(f, "Attach", address, VFIO_PT_FLAG_FORCE, &error);
        g_autofree char *driver = NULL;

        g_assert_no_error(error);
        driver = harness_device_driver(&f->h, address);
        g_assert_cmpstr(driver, ==, "vfio-pci");
}

/* --- mounts ---------------------------------------------------------------------------------- */

/* major:minor of the filesystem on "/" of the machine running the tests (and the daemon). */
static char *root_filesystem_device(void) {
        g_autofree char *mountinfo = NULL;
        g_auto(GStrv) lines = NULL;

        g_assert_true(g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, NULL));
        lines = g_strsplit(mountinfo, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) fields = g_strsplit(*l, " ", 6);
                if (g_strv_length(fields) >= 5 && strcmp(fields[4], "/") == 0)
                        return g_strdup(fields[2]);
        }
        return NULL;
}

/* This machine's real root filesystem, as far as the daemon can tell, is on the fake NVMe: the
 * real /proc/self/mountinfo, not a fake one, names it. */
static void test_real_root_filesystem(Fixture *f, gconstpointer data) {
        g_autofree char *dev = root_filesystem_device();
        g_autofree char *out = NULL, *err = NULL;

        g_assert_nonnull(dev);
        g_free(fake_pci_nvme_namespace_add(f->h.testbed, NVME, dev));

        assert_host_use(f, NVME, "filesystem mounted on / (block device nvme0n1)");
        assert_refused(f, NVME, 0, "mounted on / (block device nvme0n1)");
        /* The client says so too, with its exit status for a busy device. */
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "detach", "02:00.0", NULL), ==, 5);
        g_assert_nonnull(strstr(err, "mounted on /"));
        attach_forced(f, NVME);
}

/* ext4 on dm-crypt on a partition: in use down to the partition, named by the mount. */
static void test_mount_through_dm(Fixture *f, gconstpointer data) {
        g_autofree char *part = nvme_partition(f, 2, NULL);
        const char *bases[] = { part, NULL };

        g_free(fake_stacked_block_device_add(f->h.testbed, "dm-0", "62:0", bases, "dm/name", "crypthome\n"));
        mounts(f, "40 1 62:0 / /home rw,relatime - ext4 /dev/mapper/crypthome rw\n");
        assert_host_use(f, NVME, "it backs the ext4 filesystem mounted on /home (block device nvme0n1p2)");
        assert_refused(f, NVME, 0, "ext4 filesystem mounted on /home");
}

/* A namespace several controllers share (a dual-port drive): its disk is below the NVMe
 * subsystem, not below any PCI function, yet each controller carries it. */
static void test_mount_nvme_multipath(Fixture *f, gconstpointer data) {
        g_free(fake_nvme_shared_namespace_add(f->h.testbed, NVME, "61:40"));
        mounts(f, "90 1 61:40 / /data rw - xfs /dev/nvme0n1 rw\n");
        assert_host_use(f, NVME, "it backs the xfs filesystem mounted on /data (block device nvme0n1)");
        assert_refused(f, NVME, 0, "xfs filesystem mounted on /data");
}

/* A mount that only a container (another mount namespace) has. */
static void test_mount_other_namespace(Fixture *f, gconstpointer data) {
        const char *argv[] = { "unshare", "--mount", "--propagation", "private", "sleep", "600", NULL };
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL, *expected = NULL;
        GPid pid;

        g_free(nvme_partition(f, 1, NULL));
        g_assert_true(g_spawn_async(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                    test_child_die_with_parent, NULL, &pid, &error));
        g_assert_no_error(error);
        path = g_strdup_printf("%d/mountinfo", pid);
        fake_proc_file(f->h.testbed, path,
                       "9001 9000 0:99 / / rw - overlay overlay rw\n"
                       "9002 9001 61:1 / /srv/data rw,noatime - xfs /dev/nvme0n1p1 rw\n");

        expected = g_strdup_printf("xfs filesystem mounted on /srv/data in the mount namespace of process %d", pid);
        assert_host_use(f, NVME, expected);
        assert_refused(f, NVME, 0, expected);
        test_stop_child(pid);
}

/* btrfs reports an anonymous device 0:NN; its devices are listed under /sys/fs/btrfs. Mounted
 * from the SATA disk, it also lives on the NVMe drive. */
static void test_btrfs(Fixture *f, gconstpointer data) {
        const char *devices[] = { sata_disk(f), nvme_disk(f), NULL };

        fake_btrfs_add(f->h.testbed, "4f1c8e12-8c1b-4a57-9d4e-1d0f6f0b7c01", devices);
        mounts(f, "30 1 0:45 /@ / rw,relatime - btrfs /dev/sda rw,ssd,subvolid=256,subvol=/@\n"
                  "31 30 0:45 /@home /home rw,relatime - btrfs /dev/sda rw,ssd,subvolid=257,subvol=/@home\n");
        assert_host_use(f, NVME, "it backs the btrfs filesystem mounted on / (block device nvme0n1)");
        assert_host_use(f, SATA, "it backs the btrfs filesystem mounted on / (block device sda)");
        assert_refused(f, NVME, 0, "btrfs filesystem mounted on /");
}

/* ZFS datasets name their pool; udev's blkid labels each vdev with it. */
static void test_zfs(Fixture *f, gconstpointer data) {
        const char *const vdev[] = { "ID_FS_TYPE", "zfs_member", "ID_FS_LABEL", "tank", NULL };
        const char *const other_pool[] = { "ID_FS_TYPE", "zfs_member", "ID_FS_LABEL", "backup", NULL };
        g_autofree char *sda1 = NULL;

        g_free(nvme_partition(f, 1, vdev));
        sda1 = fake_block_partition_add(f->h.testbed, sata_disk(f), "sda1", "61:17", other_pool);
        mounts(f, "50 1 0:50 / /tank rw - zfs tank rw,xattr,posixacl\n"
                  "51 50 0:51 / /tank/home rw - zfs tank/home rw,xattr,posixacl\n");
        assert_host_use(f, NVME, "it backs the zfs filesystem mounted on /tank (block device nvme0n1p1)");
        /* A pool that is not imported (nothing mounted from it) holds nothing. */
        assert_free(f, SATA);
        assert_refused(f, NVME, 0, "zfs filesystem mounted on /tank");
}

/* bcachefs lists every device in its mount source. */
static void test_bcachefs(Fixture *f, gconstpointer data) {
        g_free(nvme_partition(f, 3, NULL));
        (void) sata_disk(f);
        mounts(f, "60 1 0:52 / /mnt/pool rw - bcachefs /dev/sda:/dev/nvme0n1p3 rw\n");
        assert_host_use(f, NVME, "bcachefs filesystem mounted on /mnt/pool (block device nvme0n1p3)");
        assert_host_use(f, SATA, "bcachefs filesystem mounted on /mnt/pool (block device sda)");
        assert_refused(f, NVME, 0, "bcachefs filesystem mounted on /mnt/pool");
}

/* --- swap ------------------------------------------------------------------------------------ */

static void test_swap_partition(Fixture *f, gconstpointer data) {
        g_free(nvme_partition(f, 3, NULL));
        swaps(f, "/dev/nvme0n1p3                          partition\t8388604\t\t0\t\t-2\n");
        assert_host_use(f, NVME, "it holds the swap area /dev/nvme0n1p3 (block device nvme0n1p3)");
        assert_refused(f, NVME, 0, "swap area /dev/nvme0n1p3");
}

/* A swap file is in use with the filesystem that holds it; the file is what the user knows. */
static void test_swap_file(Fixture *f, gconstpointer data) {
        g_free(nvme_partition(f, 2, NULL));
        mounts(f, "40 1 61:2 / /var rw,relatime - ext4 /dev/nvme0n1p2 rw\n");
        swaps(f, "/var/swap\\040file                         file\t\t2097148\t\t0\t\t-3\n");
        assert_host_use(f, NVME, "it holds the swap file /var/swap file (on the ext4 filesystem mounted on /var)");
        assert_refused(f, NVME, 0, "swap file /var/swap file");
}

/* --- devices built on others ----------------------------------------------------------------- */

/* An open LUKS mapping, not mounted: dm-crypt holds the partition. */
static void test_holder_dm_crypt(Fixture *f, gconstpointer data) {
        g_autofree char *part = nvme_partition(f, 2, NULL);
        const char *bases[] = { part, NULL };

        g_free(fake_stacked_block_device_add(f->h.testbed, "dm-3", "62:3", bases, "dm/name", "cryptdata\n"));
        assert_host_use(f, NVME, "dm-3 (cryptdata) is built on its block device nvme0n1p2");
        assert_refused(f, NVME, 0, "dm-3 (cryptdata) is built on");
}

/* An assembled RAID 1 over the NVMe drive and the SATA disk. */
static void test_holder_md(Fixture *f, gconstpointer data) {
        g_autofree char *part = nvme_partition(f, 1, NULL);
        g_autofree char *sda1 = fake_block_partition_add(f->h.testbed, sata_disk(f), "sda1", "61:17", NULL);
        const char *bases[] = { part, sda1, NULL };

        g_free(fake_stacked_block_device_add(f->h.testbed, "md127", "62:127", bases, "md/level", "raid1\n"));
        assert_host_use(f, NVME, "md127 (raid1) is built on its block device nvme0n1p1");
        assert_host_use(f, SATA, "md127 (raid1) is built on its block device sda1");
        assert_refused(f, NVME, 0, "md127 (raid1)");
}

/* --- virtio filesystems ---------------------------------------------------------------------- */

static void test_virtio_9p(Fixture *f, gconstpointer data) {
        fake_pci_device_add(f->h.testbed, fake_pci_extra_device(VIRTIO_9P));
        g_free(fake_virtio_device_add(f->h.testbed, VIRTIO_9P, "virtio0", "9pnet_virtio", "hostshare\n"));
        mounts(f, "70 1 0:60 / /srv/share rw - 9p hostshare rw,trans=virtio,version=9p2000.L\n");

        assert_host_use(f, VIRTIO_9P, "it carries the 9p filesystem mounted on /srv/share (tag hostshare)");
        assert_refused(f, VIRTIO_9P, 0, "9p filesystem mounted on /srv/share (tag hostshare)");
        assert_extra_untouched(f, VIRTIO_9P);

        /* The same device with nothing mounted from it is free. */
        mounts(f, "");
        assert_free(f, VIRTIO_9P);
}

/* Kernels since 6.10 say which virtio-fs device has which tag. */
static void test_virtiofs_tagged(Fixture *f, gconstpointer data) {
        g_autofree char *virtio = NULL;

        fake_pci_device_add(f->h.testbed, fake_pci_extra_device(VIRTIO_FS));
        virtio = fake_virtio_device_add(f->h.testbed, VIRTIO_FS, "virtio1", "virtiofs", NULL);
        fake_virtiofs_instance_add(f->h.testbed, virtio, 0, "rootfs");
        mounts(f, "80 1 0:61 / / rw - virtiofs rootfs rw\n");

        assert_host_use(f, VIRTIO_FS, "it carries the virtio-fs filesystem mounted on / (tag rootfs)");
        assert_refused(f, VIRTIO_FS, 0, "virtio-fs filesystem mounted on / (tag rootfs)");
        assert_extra_untouched(f, VIRTIO_FS);

        mounts(f, "80 1 0:61 / / rw - virtiofs othertag rw\n");
        assert_free(f, VIRTIO_FS);
}

/* Older kernels do not: every virtio-fs device then counts as carrying the mount. */
static void test_virtiofs_untagged(Fixture *f, gconstpointer data) {
        fake_pci_device_add(f->h.testbed, fake_pci_extra_device(VIRTIO_FS));
        g_free(fake_virtio_device_add(f->h.testbed, VIRTIO_FS, "virtio1", "virtiofs", NULL));
        mounts(f, "80 1 0:61 / / rw - virtiofs rootfs rw\n");

        assert_host_use(f, VIRTIO_FS, "it may carry the virtio-fs filesystem mounted on / (tag rootfs); this kernel "
                                      "does not say which virtio-fs device has which tag");
        assert_refused(f, VIRTIO_FS, 0, "virtio-fs filesystem mounted on /");
        assert_extra_untouched(f, VIRTIO_FS);
}

/* --- bridges and SR-IOV ---------------------------------------------------------------------- */

static void test_bridge(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        struct harness_before before;
        g_autofree char *driver = NULL;

        assert_host_use(f, "0000:00:1c.0", "it is a PCI bridge; devices below it would lose hotplug");
        assert_host_use(f, "0000:00:00.0", "it is a host bridge");
        assert_refused(f, "0000:00:1c.0", 0, "PCI bridge");
        assert_refused(f, "0000:00:00.0", 0, "host bridge");

        /* vfio-pci does not drive a bridge: forced or not, Attach leaves it alone. */
        harness_remember(&f->h, &before);
        reply = call(f, "Attach", "0000:00:1c.0", VFIO_PT_FLAG_FORCE, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_INVALID_ARGUMENT);
        harness_assert_nothing_changed(&f->h, &before);

        /* Detach may be forced, and Restore gives it back. */
        g_clear_error(&error);
        g_clear_pointer(&reply, g_variant_unref);
        reply = call(f, "Detach", "0000:00:1c.0", VFIO_PT_FLAG_FORCE, &error);
        g_assert_no_error(error);
        driver = harness_device_driver(&f->h, "0000:00:1c.0");
        g_assert_cmpstr(driver, ==, "");
        g_clear_pointer(&reply, g_variant_unref);
        reply = call(f, "Restore", "0000:00:1c.0", 0, &error);
        g_assert_no_error(error);
        g_free(driver);
        driver = harness_device_driver(&f->h, "0000:00:1c.0");
        g_assert_cmpstr(driver, ==, "pcieport");

        /* With the group flag, bridges are skipped, not refused: the GPU's group still moves. */
        g_clear_pointer(&reply, g_variant_unref);
        reply = call(f, "Attach", "0000:01:00.1", VFIO_PT_FLAG_GROUP, &error);
        g_assert_no_error(error);
        g_free(driver);
        driver = harness_device_driver(&f->h, "0000:00:01.0");
        g_assert_cmpstr(driver, ==, "pcieport");
}

static void test_sriov(Fixture *f, gconstpointer data) {
        g_autofree char *root = umockdev_testbed_get_root_dir(f->h.testbed);
        g_autofree char *vf_syspath = fake_pci_device_syspath(VF);
        g_autofree char *driver_link = g_strdup_printf("%s%s/driver", root, vf_syspath);
        g_autofree char *back_link = g_strdup_printf("%s/sys/bus/pci/drivers/igbvf/%s", root, VF);

        fake_pci_device_add(f->h.testbed, fake_pci_extra_device(VF));
        fake_sriov_link(f->h.testbed, NIC, VF, 0);
        assert_host_use(f, NIC, "its virtual function 0000:59:10.0 is bound to igbvf");
        assert_refused(f, NIC, 0, "its virtual function 0000:59:10.0 is bound to igbvf");

        /* A VF on vfio-pci may be inside a VM: unbinding the PF would remove it from there. */
        g_assert_cmpint(g_unlink(driver_link), ==, 0);
        g_assert_cmpint(g_unlink(back_link), ==, 0);
        g_assert_cmpint(symlink("../../../../bus/pci/drivers/vfio-pci", driver_link), ==, 0);
        assert_host_use(f, NIC, "its virtual function 0000:59:10.0 is on vfio-pci");
        assert_refused(f, NIC, 0, "0000:59:10.0 is on vfio-pci");

        /* Unbound VFs hold nothing. */
        g_assert_cmpint(g_unlink(driver_link), ==, 0);
        assert_free(f, NIC);
        attach_forced(f, NIC);
}

/* --- network and console --------------------------------------------------------------------- */

static void test_interface_up(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        fake_pci_net_interface_add(f->h.testbed, NIC, "enp89s0f0", TRUE);
        assert_host_use(f, NIC, "its network interface enp89s0f0 is up");
        assert_refused(f, NIC, 0, "enp89s0f0");
        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "attach", "59:00.0", "--force", NULL), ==, 0);
        kernel_emulator_settle(f->h.emulator);
        g_free(out);
        out = harness_device_driver(&f->h, NIC);
        g_assert_cmpstr(out, ==, "vfio-pci");
}

static char *default_route_interface(void) {
        g_autofree char *route = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents("/proc/net/route", &route, NULL, NULL))
                return NULL;
        lines = g_strsplit(route, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) fields = g_strsplit_set(*l, " \t", -1);
                g_autoptr(GPtrArray) words = g_ptr_array_new();
                for (char **w = fields; *w; w++)
                        if (**w)
                                g_ptr_array_add(words, *w);
                if (words->len >= 2 && strcmp(g_ptr_array_index(words, 1), "00000000") == 0)
                        return g_strdup(g_ptr_array_index(words, 0));
        }
        return NULL;
}

/* The route comes from this machine's real routing table. */
static void test_default_route(Fixture *f, gconstpointer data) {
        g_autofree char *ifname = default_route_interface();
        g_autofree char *expected = NULL;

        if (!ifname) {
                g_test_skip("this machine has no IPv4 default route");
                return;
        }
        /* Down, so only the route can be the reason. */
        fake_pci_net_interface_add(f->h.testbed, "0000:59:00.1", ifname, FALSE);
        expected = g_strdup_printf("its network interface %s carries the default route", ifname);
        assert_host_use(f, "0000:59:00.1", expected);
        assert_refused(f, "0000:59:00.1", 0, expected);
}

static void test_boot_vga(Fixture *f, gconstpointer data) {
        assert_host_use(f, "0000:00:02.0", "boot VGA");
        assert_refused(f, "0000:00:02.0", 0, "boot VGA");
        attach_forced(f, "0000:00:02.0");
}

/* --- groups and races ------------------------------------------------------------------------ */

/* With the group flag every member is checked, and the refusal names the member. */
static void test_group_member(Fixture *f, gconstpointer data) {
        g_autofree char *syspath = fake_pci_device_syspath("0000:01:00.0");

        umockdev_testbed_set_attribute(f->h.testbed, syspath, "boot_vga", "1");
        assert_refused(f, "0000:01:00.1", VFIO_PT_FLAG_GROUP, "0000:01:00.0 (driver nouveau): it is the boot VGA");
}

static void gpu_becomes_console(gpointer data) {
        Fixture *f = data;
        g_autofree char *root = umockdev_testbed_get_root_dir(f->h.testbed);
        g_autofree char *syspath = fake_pci_device_syspath("0000:01:00.0");
        g_autofree char *path = g_strdup_printf("%s%s/boot_vga", root, syspath);

        g_assert_true(g_file_set_contents(path, "1\n", -1, NULL));
}

/* Checked again right before each unbind: after the audio function was taken, the GPU became
 * the console; the GPU is refused and the audio function goes back. */
static void test_recheck_before_unbind(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *gpu = NULL, *audio = NULL, *override = NULL;

        kernel_emulator_on_override(f->h.emulator, "0000:01:00.1", gpu_becomes_console, f);
        reply = call(f, "Attach", "0000:01:00.1", VFIO_PT_FLAG_GROUP, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_DEVICE_BUSY);
        g_assert_nonnull(strstr(error->message, "0000:01:00.0"));
        g_assert_nonnull(strstr(error->message, "boot VGA"));

        gpu = harness_device_driver(&f->h, "0000:01:00.0");
        audio = harness_device_driver(&f->h, "0000:01:00.1");
        override = harness_device_override(&f->h, "0000:01:00.1");
        g_assert_cmpstr(gpu, ==, "nouveau");
        g_assert_cmpstr(audio, ==, "snd_hda_intel");
        g_assert_cmpstr(override, ==, "(null)");
        g_assert_cmpint(kernel_emulator_journal_find(f->h.emulator, "unbind nouveau"), <, 0);
}

/* Another program rebinds the device between the check and the unbind: the daemon unbinds only
 * from the driver it checked, so its write misses, and it says so (whether it saw the device
 * between the other program's unbind and bind, or on its new driver) and puts the device back. */
static void test_driver_changed_meanwhile(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *driver = NULL, *override = NULL;

        kernel_emulator_rebind_on_override(f->h.emulator, NIC, "e1000e");
        reply = call(f, "Attach", NIC, 0, &error);
        assert_dbus_error(error, VFIO_PT_ERROR_OPERATION_FAILED);
        g_assert_nonnull(strstr(error->message, "e1000e"));
        g_assert_cmpint(kernel_emulator_journal_find(f->h.emulator, "unbind igb 0000:59:00.0: not bound to it"), >=,
                        0);

        driver = harness_device_driver(&f->h, NIC);
        override = harness_device_override(&f->h, NIC);
        g_assert_cmpstr(driver, ==, "igb");
        g_assert_cmpstr(override, ==, "(null)");
}

/* --- what the client shows ------------------------------------------------------------------- */

static void test_client_shows_host_use(Fixture *f, gconstpointer data) {
        g_autofree char *out = NULL, *err = NULL;

        g_free(nvme_partition(f, 3, NULL));
        swaps(f, "/dev/nvme0n1p3 partition\t8388604\t0\t-2\n");

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "02:00.0", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "Host use:         it holds the swap area /dev/nvme0n1p3"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "show", "59:00.0", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "Host use:         none"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "show", "02:00.0", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "\"host_use\": \"it holds the swap area /dev/nvme0n1p3"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(harness_run_ctl(&f->h, &out, &err, "--json", "list", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "\"host_use\": \"\""));
        g_assert_nonnull(strstr(out, "\"host_use\": \"it holds the swap area /dev/nvme0n1p3"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/host-use/mount/real-root-filesystem", test_real_root_filesystem);
        ADD("/host-use/mount/through-dm", test_mount_through_dm);
        ADD("/host-use/mount/other-namespace", test_mount_other_namespace);
        ADD("/host-use/mount/nvme-multipath", test_mount_nvme_multipath);
        ADD("/host-use/mount/btrfs", test_btrfs);
        ADD("/host-use/mount/zfs", test_zfs);
        ADD("/host-use/mount/bcachefs", test_bcachefs);
        ADD("/host-use/swap/partition", test_swap_partition);
        ADD("/host-use/swap/file", test_swap_file);
        ADD("/host-use/holder/dm-crypt", test_holder_dm_crypt);
        ADD("/host-use/holder/md", test_holder_md);
        ADD("/host-use/virtio/9p", test_virtio_9p);
        ADD("/host-use/virtio/virtiofs-tagged", test_virtiofs_tagged);
        ADD("/host-use/virtio/virtiofs-untagged", test_virtiofs_untagged);
        ADD("/host-use/bridge", test_bridge);
        ADD("/host-use/sriov", test_sriov);
        ADD("/host-use/network/interface-up", test_interface_up);
        ADD("/host-use/network/default-route", test_default_route);
        ADD("/host-use/boot-vga", test_boot_vga);
        ADD("/host-use/group-member", test_group_member);
        ADD("/host-use/race/recheck-before-unbind", test_recheck_before_unbind);
        ADD("/host-use/race/driver-changed", test_driver_changed_meanwhile);
        ADD("/host-use/client", test_client_shows_host_use);
#undef ADD
        return g_test_run();
}
