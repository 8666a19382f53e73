/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-watchdog.h"

#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A thread rather than alarm(): a test runner started with SIGALRM blocked (the signal mask
 * survives exec) would never see the alarm, and a thread can also look around before it ends
 * the program. One per program, so its state is the program's. */
static struct {
        GMutex lock;
        GCond changed;
        GThread *thread;
        gint64 deadline; /* monotonic µs; 0: disarmed */
        unsigned seconds;
        test_watchdog_report_func report;
        void *userdata;
} watchdog;

static char *read_proc(int pid, const char *what) {
        g_autofree char *path = g_strdup_printf("/proc/%d/%s", pid, what);
        char *contents = NULL;
        gsize length = 0;

        if (!g_file_get_contents(path, &contents, &length, NULL))
                return g_strdup("?");
        for (gsize i = 0; i + 1 < length; i++) /* cmdline: NUL-separated */
                if (contents[i] == '\0')
                        contents[i] = ' ';
        return g_strchomp(contents);
}

/* pid's parent, from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold anything). */
static int parent_of(int pid) {
        g_autofree char *stat = read_proc(pid, "stat");
        const char *end = strrchr(stat, ')');
        char state;
        int ppid;

        if (!end || sscanf(end + 1, " %c %d", &state, &ppid) != 2)
                return -1;
        return ppid;
}

static gboolean descends_from(int pid, int ancestor) {
        for (int depth = 0; pid > 1 && depth < 32; depth++) {
                pid = parent_of(pid);
                if (pid == ancestor)
                        return TRUE;
        }
        return FALSE;
}

/* Every process below this one, with where the kernel has it waiting (that is what hung), then
 * killed: a child holding the test's output open would keep meson waiting for its own timeout. */
static void report_and_kill_descendants(void) {
        g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(int));
        g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
        const char *name;

        if (!proc)
                return;
        printf("# processes below the test (pid ppid state wchan: command):\n");
        while ((name = g_dir_read_name(proc))) {
                int pid = atoi(name);
                g_autofree char *stat = NULL, *wchan = NULL, *cmdline = NULL;
                const char *state;

                if (pid <= 0 || !descends_from(pid, getpid()))
                        continue;
                stat = read_proc(pid, "stat");
                state = strrchr(stat, ')');
                wchan = read_proc(pid, "wchan");
                cmdline = read_proc(pid, "cmdline");
                printf("#   %d %d %c %s: %.300s\n", pid, parent_of(pid), state ? state[2] : '?', wchan, cmdline);
                g_array_append_val(pids, pid);
        }
        for (guint i = 0; i < pids->len; i++)
                kill(g_array_index(pids, int, i), SIGKILL);
}

void test_watchdog_print_tail(const char *title, const char *path, unsigned lines) {
        g_autofree char *contents = NULL;
        g_auto(GStrv) rows = NULL;
        guint n, first;

        if (!path || !g_file_get_contents(path, &contents, NULL, NULL)) {
                printf("# %s: (none)\n", title);
                return;
        }
        rows = g_strsplit(contents, "\n", -1);
        n = g_strv_length(rows);
        first = n > lines ? n - lines : 0;
        printf("# %s (last %u of %u lines):\n", title, n - first, n);
        for (guint i = first; i < n; i++)
                printf("#   %s\n", rows[i]);
}

static gpointer watchdog_thread(gpointer data) {
        g_mutex_lock(&watchdog.lock);
        for (;;) {
                if (watchdog.deadline == 0)
                        g_cond_wait(&watchdog.changed, &watchdog.lock);
                else if (!g_cond_wait_until(&watchdog.changed, &watchdog.lock, watchdog.deadline) &&
                         watchdog.deadline != 0 && g_get_monotonic_time() >= watchdog.deadline)
                        break;
        }
        /* Keeps the lock: nothing re-arms a program that is about to end. */
        fflush(stdout);
        printf("Bail out! watchdog: %s hung for %u s\n", g_test_get_path() ? g_test_get_path() : "the test",
               watchdog.seconds);
        if (watchdog.report)
                watchdog.report(watchdog.userdata);
        report_and_kill_descendants();
        fflush(stdout);
        /* No abort(): a core dump of a hung test explains nothing the lines above do not. */
        _exit(1);
}

void test_watchdog_arm(unsigned seconds, test_watchdog_report_func report, void *userdata) {
        g_mutex_lock(&watchdog.lock);
        watchdog.seconds = seconds;
        watchdog.deadline = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;
        watchdog.report = report;
        watchdog.userdata = userdata;
        if (!watchdog.thread)
                watchdog.thread = g_thread_new("test-watchdog", watchdog_thread, NULL);
        g_cond_signal(&watchdog.changed);
        g_mutex_unlock(&watchdog.lock);
}

void test_watchdog_disarm(void) {
        g_mutex_lock(&watchdog.lock);
        watchdog.deadline = 0;
        watchdog.report = NULL;
        watchdog.userdata = NULL;
        g_cond_signal(&watchdog.changed);
        g_mutex_unlock(&watchdog.lock);
}
