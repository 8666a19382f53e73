/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "vfio-viability.h"

static void test_driver_rules(void) {
        static const struct {
                const char *driver;
                gboolean allows;
        } cases[] = {
                { NULL, TRUE },
                { "vfio-pci", TRUE },
                { "mlx5_vfio_pci", TRUE },
                { "hisi_acc_vfio_pci", TRUE },
                { "pci-stub", TRUE },
                { "pcieport", TRUE },
                { "e1000e", FALSE },
                { "nouveau", FALSE },
                { "snd_hda_intel", FALSE },
                { "vfio", FALSE },          /* not a PCI driver name */
                { "_vfio_pci", FALSE },     /* suffix alone is no variant driver */
                { "vfio-pci-evil", FALSE },
                { "", FALSE },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *reason = NULL;

                g_test_message("driver %s", cases[i].driver ?: "(none)");
                g_assert_cmpint(vfio_driver_allows_group(cases[i].driver, &reason), ==, cases[i].allows);
                g_assert_nonnull(reason);
        }
}

static void test_is_vfio(void) {
        g_assert_true(vfio_driver_is_vfio("vfio-pci"));
        g_assert_true(vfio_driver_is_vfio("nvgrace_gpu_vfio_pci"));
        g_assert_false(vfio_driver_is_vfio(NULL));
        g_assert_false(vfio_driver_is_vfio("pci-stub"));
        g_assert_false(vfio_driver_is_vfio("vfio_pci_core"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/viability/driver-rules", test_driver_rules);
        g_test_add_func("/viability/is-vfio", test_is_vfio);
        return g_test_run();
}
