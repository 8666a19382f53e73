/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "address-directory.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static int address_compare(const void *a, const void *b) {
        return pci_address_compare(a, b);
}

int address_directory_list(const char *path, struct pci_address **ret, size_t *ret_count) {
        _cleanup_(closedirp) DIR *dir = NULL;
        _cleanup_(freep) struct pci_address *list = NULL;
        size_t count = 0, allocated = 0;
        struct dirent *de;

        dir = opendir(path);
        if (!dir) {
                if (errno != ENOENT)
                        return negative_errno();
                *ret = NULL;
                *ret_count = 0;
                return 0;
        }

        while ((errno = 0, de = readdir(dir))) {
                char canonical[PCI_ADDRESS_STRING_MAX];
                struct pci_address a;

                if (pci_address_parse(de->d_name, &a) < 0 ||
                    strcmp(pci_address_format(&a, canonical), de->d_name) != 0)
                        continue;
                if (count == allocated) {
                        size_t n = allocated ? allocated * 2 : 64;
                        struct pci_address *p = reallocarray(list, n, sizeof(*p));
                        if (!p)
                                return -ENOMEM;
                        list = p;
                        allocated = n;
                }
                list[count++] = a;
        }
        if (errno != 0)
                return negative_errno();

        if (count > 1)
                qsort(list, count, sizeof(*list), address_compare);
        *ret = TAKE_PTR(list);
        *ret_count = count;
        return 0;
}
