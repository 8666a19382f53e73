/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "pci-address.h"

struct good_case {
        const char *input;
        const char *canonical;
};

static const struct good_case good[] = {
        { "59:00.0", "0000:59:00.0" },
        { "0000:59:00.0", "0000:59:00.0" },
        { "0000:00:1f.7", "0000:00:1f.7" },
        { "00:1F.6", "0000:00:1f.6" },
        { "ABCD:EF:1F.7", "abcd:ef:1f.7" },
        { "ffff:ff:1f.7", "ffff:ff:1f.7" },
        { "10000:e0:00.0", "10000:e0:00.0" },   /* Intel VMD */
        { "0010000:e0:17.0", "10000:e0:17.0" }, /* same domain, zero-padded */
        { "ffffffff:ff:1f.7", "ffffffff:ff:1f.7" },
        { "00000000:00:00.0", "0000:00:00.0" },
};

static const char *const bad[] = {
        "",
        ":",
        "59",
        "59:00",
        "59:00.",
        "59:00.8",     /* function out of range */
        "59:20.0",     /* slot out of range */
        "59:1g.0",
        "5:00.0",      /* bus needs two digits */
        "059:00.0",
        "59:0.0",
        "59:000.0",
        "59:00.00",
        "0:59:00.0",   /* domain needs at least four digits */
        "000:59:00.0",
        "100000000:00:00.0", /* domain wider than 32 bits */
        "0000:59:00.0 ",
        " 0000:59:00.0",
        "0000:59:00.0\n",
        "0000:59:00.0/",
        "../59:00.0",
        "0000:59:00.0/../../..",
        "0000:59:00.0/driver/unbind",
        "0000/59:00.0",
        "0000::59:00.0",
        "0000:59::00.0",
        "0000:59:00:0",
        "0000.59.00.0",
        "+000:59:00.0",
        "-000:59:00.0",
        "0x00:59:00.0",
        "0000:0x:00.0",
        "0000:59:00.-1",
        "0000:59:00.0:1",
        "1:2:3:4.5",
        "g000:59:00.0",
        "0000:59:00.0.1",
        "%s%s%s%n",
        "0000:59:00.\xc3\xa9",
        "\xef\xbc\x90\xef\xbc\x90:00.0", /* full-width digits */
};

static void test_good(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                char buf[PCI_ADDRESS_STRING_MAX];
                struct pci_address a;

                g_test_message("good input '%s'", good[i].input);
                g_assert_cmpint(pci_address_parse(good[i].input, &a), ==, 0);
                g_assert_cmpstr(pci_address_format(&a, buf), ==, good[i].canonical);
                g_assert_cmpint(pci_address_canonicalize(good[i].input, buf), ==, 0);
                g_assert_cmpstr(buf, ==, good[i].canonical);
        }
}

static void test_bad(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                struct pci_address a = { .domain = 0x1234 };

                g_test_message("bad input '%s'", bad[i]);
                g_assert_cmpint(pci_address_parse(bad[i], &a), ==, -EINVAL);
                g_assert_cmpuint(a.domain, ==, 0x1234); /* untouched on failure */
        }
        g_assert_cmpint(pci_address_parse(NULL, &(struct pci_address) {}), ==, -EINVAL);
}

static void test_embedded_nul(void) {
        /* What a C caller sees of "59:00.0\0/../x" is "59:00.0": the bus layer rejects embedded NULs,
         * and the parser must at least never read past the terminator it is given. */
        const char text[] = "59:00.0\0/../../bus";
        struct pci_address a;
        g_assert_cmpint(pci_address_parse(text, &a), ==, 0);
        g_assert_cmpuint(a.bus, ==, 0x59);
}

static void test_overlong(void) {
        g_autofree char *longer = g_strnfill(4096, '0');
        g_autofree char *padded = g_strconcat("00000000000000000000000000", "59:00.0", NULL);
        struct pci_address a;

        g_assert_cmpint(pci_address_parse(longer, &a), ==, -EINVAL);
        g_assert_cmpint(pci_address_parse(padded, &a), ==, -EINVAL);
}

static void test_fields_and_order(void) {
        struct pci_address a, b;

        g_assert_cmpint(pci_address_parse("10000:e0:1f.7", &a), ==, 0);
        g_assert_cmpuint(a.domain, ==, 0x10000);
        g_assert_cmpuint(a.bus, ==, 0xe0);
        g_assert_cmpuint(a.slot, ==, 0x1f);
        g_assert_cmpuint(a.function, ==, 7);

        g_assert_cmpint(pci_address_parse("0000:e0:1f.7", &b), ==, 0);
        g_assert_cmpint(pci_address_compare(&b, &a), <, 0);
        g_assert_cmpint(pci_address_compare(&a, &b), >, 0);
        g_assert_false(pci_address_equal(&a, &b));
        b.domain = 0x10000;
        g_assert_cmpint(pci_address_compare(&a, &b), ==, 0);
        g_assert_true(pci_address_equal(&a, &b));

        g_assert_cmpint(pci_address_parse("00:01.1", &a), ==, 0);
        g_assert_cmpint(pci_address_parse("00:01.0", &b), ==, 0);
        g_assert_cmpint(pci_address_compare(&b, &a), <, 0);
}

/* Every printable two-character mutation of a good address either parses to an address whose
 * canonical form re-parses to itself, or is rejected: nothing in between. */
static void test_mutations_round_trip(void) {
        const char *seed = "0000:59:00.0";
        size_t n = strlen(seed);

        for (size_t pos = 0; pos < n; pos++)
                for (int c = 1; c < 256; c++) {
                        char text[32], buf[PCI_ADDRESS_STRING_MAX], again[PCI_ADDRESS_STRING_MAX];
                        struct pci_address a;

                        memcpy(text, seed, n + 1);
                        text[pos] = (char) c;
                        if (pci_address_parse(text, &a) < 0)
                                continue;
                        pci_address_format(&a, buf);
                        g_assert_cmpint(pci_address_canonicalize(buf, again), ==, 0);
                        g_assert_cmpstr(buf, ==, again);
                        g_assert_cmpuint(strspn(buf, "0123456789abcdef:."), ==, strlen(buf));
                }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/pci-address/good", test_good);
        g_test_add_func("/pci-address/bad", test_bad);
        g_test_add_func("/pci-address/embedded-nul", test_embedded_nul);
        g_test_add_func("/pci-address/overlong", test_overlong);
        g_test_add_func("/pci-address/fields-and-order", test_fields_and_order);
        g_test_add_func("/pci-address/mutations-round-trip", test_mutations_round_trip);
        return g_test_run();
}
