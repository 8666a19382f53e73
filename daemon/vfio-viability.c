/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vfio-viability.h"

#include <string.h>

bool vfio_driver_is_vfio(const char *driver) {
        size_t n;

        if (!driver)
                return false;
        if (strcmp(driver, "vfio-pci") == 0)
                return true;
        n = strlen(driver);
        return n > strlen("_vfio_pci") && strcmp(driver + n - strlen("_vfio_pci"), "_vfio_pci") == 0;
}

bool vfio_driver_allows_group(const char *driver, const char **ret_reason) {
        const char *reason;
        bool ok = true;

        if (!driver)
                reason = "no driver";
        else if (vfio_driver_is_vfio(driver))
                reason = "on vfio";
        else if (strcmp(driver, "pci-stub") == 0)
                reason = "on pci-stub, which VFIO allows";
        else if (strcmp(driver, "pcieport") == 0)
                reason = "PCIe port driver, which VFIO allows";
        else {
                reason = "bound to a host driver";
                ok = false;
        }

        if (ret_reason)
                *ret_reason = reason;
        return ok;
}
