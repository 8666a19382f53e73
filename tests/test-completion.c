/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI addresses from the completion scripts, as a shell asks for them: bash's completion function
 * (and zsh's and fish's, where they are installed) runs the real vfio-passthroughctl against the real daemon
 * on a private bus over the fake PCI tree, and must offer exactly the tree's addresses. The
 * verbs, options and user names need no daemon; tests/test-completion.sh checks those. */
#include <string.h>

#include "harness.h"
#include "pci-tree.h"

#ifndef COMPLETION_BASH_SCRIPT
#error "COMPLETION_BASH_SCRIPT must be defined"
#endif
#ifndef COMPLETION_FISH_SCRIPT
#error "COMPLETION_FISH_SCRIPT must be defined"
#endif
#ifndef COMPLETION_DIR
#error "COMPLETION_DIR must be defined"
#endif
#ifndef ZSH_COMPLETE_DRIVER
#error "ZSH_COMPLETE_DRIVER must be defined"
#endif

typedef struct {
        struct harness h;
} Fixture;

/* Beside the default tree, an NVMe drive behind an Intel VMD, in PCI domain 10000: the short
 * form BUS:SLOT.FUNCTION cannot name it. */
static const struct fake_pci_device vmd_drive = {
        .address = "10000:e1:00.0",
        .vendor = 0x144d, .device = 0xa808, .subsystem_vendor = 0x144d, .subsystem_device = 0xa801,
        .class_code = 0x010802,
        .driver = "nvme",
        .iommu_group = 40,
        .boot_vga = -1,
};

static void populate(UMockdevTestbed *testbed, const void *data) {
        fake_pci_device_add(testbed, &vmd_drive);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        static const struct harness_options options = { .populate = populate };

        harness_start_with(&f->h, &options);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_assert_true(harness_daemon_alive(&f->h));
        harness_stop(&f->h);
}

/* Sets up the words as bash would for the line with the cursor at its end (':' is a word of its
 * own, as COMP_WORDBREAKS has it) and prints what the function offers, one a line. $2 "plain"
 * takes ':' out of COMP_WORDBREAKS, as some users do. */
static const char bash_driver[] =
        "source \"$1\" || exit 99\n"
        "[[ $3 == plain ]] && COMP_WORDBREAKS=${COMP_WORDBREAKS//:}\n"
        "COMP_LINE=$2\n"
        "COMP_POINT=${#COMP_LINE}\n"
        "if [[ $3 == plain ]]; then read -ra COMP_WORDS <<<\"$COMP_LINE\"\n"
        "else read -ra COMP_WORDS <<<\"${COMP_LINE//:/ : }\"; fi\n"
        "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
        "_vfio_passthroughctl vfio-passthroughctl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n";

/* PATH with the built client first, so the scripts find it as they would the installed one. */
static char *path_with_client(void) {
        g_autofree char *dir = g_path_get_dirname(CTL_PATH);
        return g_strdup_printf("PATH=%s:%s", dir, g_getenv("PATH") ?: "/usr/bin:/bin");
}

static int compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Lines of text, without the empty ones, sorted, joined by spaces: a readable set to compare. */
static char *sorted_words(const char *text) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autoptr(GPtrArray) words = g_ptr_array_new();

        for (char **l = lines; *l; l++)
                if (**l)
                        g_ptr_array_add(words, *l);
        g_ptr_array_sort(words, compare_strings);
        g_ptr_array_add(words, NULL);
        return g_strjoinv(" ", (char **) words->pdata);
}

static char *complete_bash(Fixture *f, const char *line, gboolean colon_breaks) {
        g_autofree char *path = path_with_client();
        const char *const argv[] = { "env", path, "bash", "--norc", "--noprofile", "-c", bash_driver, "bash",
                                     COMPLETION_BASH_SCRIPT, line, colon_breaks ? "colon" : "plain", NULL };
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_as(&f->h, NULL, argv, &out, &err), ==, 0);
        g_test_message("bash: '%s' -> %s", line, out);
        /* The client's own messages are kept from the terminal. */
        g_assert_cmpstr(err, ==, "");
        return sorted_words(out);
}

/* What the scripts promise for typed text: the tree's full addresses starting with it, and for
 * domain 0000 the short form starting with it once something is typed. With ':' a word break,
 * bash shows only what follows the last ':' of the typed text. */
static char *expected_addresses(const char *typed, gboolean colon_breaks) {
        g_autoptr(GString) text = g_string_new("");
        const char *last_colon = strrchr(typed, ':');
        size_t drop = colon_breaks && last_colon ? (size_t) (last_colon - typed) + 1 : 0;

        for (size_t i = 0; i <= fake_pci_tree_size; i++) {
                const char *address = i < fake_pci_tree_size ? fake_pci_tree[i].address : vmd_drive.address;
                const char *offer = NULL;

                if (g_str_has_prefix(address, typed))
                        offer = address;
                else if (*typed && g_str_has_prefix(address, "0000:") && g_str_has_prefix(address + 5, typed))
                        offer = address + 5;
                if (offer)
                        g_string_append_printf(text, "%s\n", offer + drop);
        }
        return sorted_words(text->str);
}

static void assert_bash_offers(Fixture *f, const char *verb, const char *typed, gboolean colon_breaks) {
        g_autofree char *line = g_strdup_printf("vfio-passthroughctl %s %s", verb, typed);
        g_autofree char *got = complete_bash(f, line, colon_breaks);
        g_autofree char *want = expected_addresses(typed, colon_breaks);

        g_assert_cmpstr(got, ==, want);
}

static void test_bash_addresses(Fixture *f, gconstpointer data) {
        g_autofree char *all = expected_addresses("", TRUE);

        /* The fixture's tree has many addresses, several on bus 59 and on bus 00. */
        g_assert_cmpuint(strlen(all), >, 100);

        /* Every verb that takes a device; the tree's addresses in full. */
        assert_bash_offers(f, "show", "", TRUE);
        assert_bash_offers(f, "--json detach", "", TRUE);
        assert_bash_offers(f, "attach --force", "", TRUE);
        assert_bash_offers(f, "restore", "", TRUE);
        assert_bash_offers(f, "grant", "", TRUE);
        assert_bash_offers(f, "forget", "", TRUE);

        /* Typed in full, and in the short form of domain 0000. */
        assert_bash_offers(f, "show", "0000:59:", TRUE);
        assert_bash_offers(f, "show", "0000:59:00", TRUE);
        assert_bash_offers(f, "show", "0000:0", TRUE);
        assert_bash_offers(f, "attach", "59:", TRUE);
        assert_bash_offers(f, "attach", "59", TRUE);
        assert_bash_offers(f, "detach", "00:1f.", TRUE);
        assert_bash_offers(f, "show", "0", TRUE);
        assert_bash_offers(f, "show", "7f:", TRUE);

        /* The other domain: in full only. */
        assert_bash_offers(f, "show", "1", TRUE);
        assert_bash_offers(f, "show", "10000:", TRUE);
        assert_bash_offers(f, "show", "e1:", TRUE);
        assert_bash_offers(f, "show", "10000:e1:00.0", FALSE);

        /* Without ':' in COMP_WORDBREAKS bash replaces the whole word: the offers stay whole. */
        assert_bash_offers(f, "show", "0000:59:", FALSE);
        assert_bash_offers(f, "attach", "59:", FALSE);

        /* What the promise means on this tree, spelled out once; and no addresses where none is
         * taken. */
        static const struct {
                const char *line;
                gboolean colon_breaks;
                const char *offers;
        } spelled_out[] = {
                { "vfio-passthroughctl attach 59:", TRUE, "00.0 00.1" },
                { "vfio-passthroughctl attach 59:", FALSE, "59:00.0 59:00.1" },
                { "vfio-passthroughctl show 1", TRUE, "10000:e1:00.0" },
                { "vfio-passthroughctl show e1:", TRUE, "" },
                { "vfio-passthroughctl show 59:00.0 ", TRUE, "" },
                { "vfio-passthroughctl list ", TRUE, "" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(spelled_out); i++) {
                g_autofree char *got = complete_bash(f, spelled_out[i].line, spelled_out[i].colon_breaks);
                g_assert_cmpstr(got, ==, spelled_out[i].offers);
        }
}

static void test_bash_no_daemon(Fixture *f, gconstpointer data) {
        g_autofree char *got = NULL;

        /* The client fails (no daemon on the bus): nothing offered, nothing printed. */
        harness_stop_daemon(&f->h);
        got = complete_bash(f, "vfio-passthroughctl show ", TRUE);
        g_assert_cmpstr(got, ==, "");
        harness_start_daemon(&f->h);
}

/* zsh, TAB pressed in an interactive zsh (tests/zsh-complete.zsh): its matches are whole words. */
static char *complete_zsh(Fixture *f, const char *zsh, const char *line) {
        g_autofree char *path = path_with_client();
        g_autofree char *dump = g_build_filename(f->h.tmpdir, "zcompdump", NULL);
        const char *const argv[] = { "env", path, zsh, "-f", ZSH_COMPLETE_DRIVER, COMPLETION_DIR, line, dump, NULL };
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(harness_run_as(&f->h, NULL, argv, &out, &err), ==, 0);
        g_test_message("zsh: '%s' -> %s", line, out);
        g_assert_cmpstr(err, ==, "");
        return sorted_words(out);
}

static void assert_zsh_offers(Fixture *f, const char *zsh, const char *verb, const char *typed) {
        g_autofree char *line = g_strdup_printf("vfio-passthroughctl %s %s", verb, typed);
        g_autofree char *got = complete_zsh(f, zsh, line);
        g_autofree char *want = expected_addresses(typed, FALSE);

        g_assert_cmpstr(got, ==, want);
}

static void test_zsh_addresses(Fixture *f, gconstpointer data) {
        g_autofree char *zsh = g_find_program_in_path("zsh");

        if (!zsh) {
                g_test_skip("zsh is not installed");
                return;
        }
        assert_zsh_offers(f, zsh, "show", "");
        assert_zsh_offers(f, zsh, "--json detach", "");
        assert_zsh_offers(f, zsh, "grant", "0000:59:");
        assert_zsh_offers(f, zsh, "attach --group", "59:");
        assert_zsh_offers(f, zsh, "restore", "0");
        assert_zsh_offers(f, zsh, "forget", "1");
        assert_zsh_offers(f, zsh, "show", "e1:");
        {
                g_autofree char *got = complete_zsh(f, zsh, "vfio-passthroughctl attach 59:");
                g_assert_cmpstr(got, ==, "59:00.0 59:00.1");
        }
        {
                g_autofree char *got = complete_zsh(f, zsh, "vfio-passthroughctl show 59:00.0 ");
                g_assert_cmpstr(got, ==, "");
        }
}

static void test_fish_addresses(Fixture *f, gconstpointer data) {
        g_autofree char *fish = g_find_program_in_path("fish");
        g_autofree char *path = path_with_client();
        /* fish makes its directories under HOME even with --no-config; keep them in the test's. */
        g_autofree char *home = g_strdup_printf("HOME=%s", f->h.tmpdir);
        g_autofree char *command = NULL, *out = NULL, *err = NULL, *got = NULL, *want = NULL;
        g_autoptr(GString) expected = g_string_new("");

        if (!fish) {
                g_test_skip("fish is not installed");
                return;
        }
        command = g_strdup_printf("source '%s'; and complete -C 'vfio-passthroughctl detach 59:'",
                                  COMPLETION_FISH_SCRIPT);
        {
                const char *const argv[] = {
                        "env", "-u", "XDG_CONFIG_HOME", "-u", "XDG_DATA_HOME", "-u", "XDG_CACHE_HOME",
                        path, home, fish, "--no-config", "-c", command, NULL,
                };
                g_assert_cmpint(harness_run_as(&f->h, NULL, argv, &out, &err), ==, 0);
        }
        g_test_message("fish: %s", out);
        g_assert_cmpstr(err, ==, "");

        /* fish matches inside a candidate: 59: finds the full addresses on bus 59; drop the
         * descriptions after the tab. */
        {
                g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
                g_autoptr(GString) offers = g_string_new("");
                for (char **l = lines; *l; l++) {
                        char *tab = strchr(*l, '\t');
                        if (tab)
                                *tab = '\0';
                        g_string_append_printf(offers, "%s\n", *l);
                }
                got = sorted_words(offers->str);
        }
        for (size_t i = 0; i < fake_pci_tree_size; i++)
                if (strstr(fake_pci_tree[i].address, "59:"))
                        g_string_append_printf(expected, "%s\n", fake_pci_tree[i].address);
        want = sorted_words(expected->str);
        g_assert_cmpstr(got, ==, want);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/completion/bash/addresses", test_bash_addresses);
        ADD("/completion/bash/no-daemon", test_bash_no_daemon);
        ADD("/completion/zsh/addresses", test_zsh_addresses);
        ADD("/completion/fish/addresses", test_fish_addresses);
#undef ADD
        return g_test_run();
}
