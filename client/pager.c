/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pager.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"

/* The pager, for the signal handler below: the one piece of state a handler cannot be handed. */
static volatile pid_t pager_pid;

/* Killed while the pager runs (Ctrl-C, which less ignores, a hang-up): let the pager see the end
 * of the output and wait until the user quits it, so that it does not go on reading the terminal
 * behind the shell's back; then die of the signal as before. Only async-signal-safe calls. */
static void wait_for_pager_and_die(int sig) {
        int saved_errno = errno;

        (void) close(STDOUT_FILENO);
        while (pager_pid > 0 && waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        signal(sig, SIG_DFL);
        raise(sig);
        errno = saved_errno;
}

/* At most this many words in a pager variable; more is not a pager command line. */
#define PAGER_ARGS_MAX 32

/* The pager the environment asks for, as the name of the variable that holds it; NULL: neither
 * is set. */
static const char *pager_variable(void) {
        if (getenv("VFIO_PASSTHROUGHCTL_PAGER"))
                return "VFIO_PASSTHROUGHCTL_PAGER";
        if (getenv("PAGER"))
                return "PAGER";
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n';
}

/* Splits text in place on blanks into argv (NULL-terminated). Returns the number of words. */
static size_t split_words(char *text, char *argv[static PAGER_ARGS_MAX + 1]) {
        size_t n = 0;

        for (char *p = text; *p && n < PAGER_ARGS_MAX;) {
                while (is_blank(*p))
                        *p++ = '\0';
                if (!*p)
                        break;
                argv[n++] = p;
                while (*p && !is_blank(*p))
                        p++;
        }
        argv[n] = NULL;
        return n;
}

/* Whether the variable, if one is set, turns paging off: "" or "cat" (blanks aside). */
static bool pager_disabled(void) {
        const char *name = pager_variable();
        char copy[256], *argv[PAGER_ARGS_MAX + 1];

        if (!name)
                return false;
        snprintf(copy, sizeof(copy), "%s", getenv(name));
        return split_words(copy, argv) == 0 || (argv[1] == NULL && strcmp(argv[0], "cat") == 0);
}

/* In the child, with the pipe on stdin: becomes the pager. (strdup and setenv after fork are
 * fine: the client has no threads.) */
_Noreturn static void run_pager(void) {
        const char *name = pager_variable();
        char *argv[PAGER_ARGS_MAX + 1];
        char buf[4096];
        ssize_t n;

        if (name) {
                char *copy = strdup(getenv(name));
                if (copy && split_words(copy, argv) > 0)
                        execvp(argv[0], argv);
        }
        /* Quit at once when it all fits, keep colours, no alternate screen: less as systemd sets
         * it up. The user's LESS wins. */
        setenv("LESS", "FRXMK", 0);
        execlp("less", "less", NULL);
        execlp("more", "more", NULL);

        /* No pager at all: pass the output through, so that none of it is lost. */
        while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(STDOUT_FILENO, buf + done, (size_t) (n - done));
                        if (w <= 0)
                                _exit(EXIT_FAILURE);
                        done += w;
                }
        _exit(n < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

pid_t pager_open(void) {
        int fds[2];
        pid_t pid;

        if (!isatty(STDOUT_FILENO) || pager_disabled())
                return 0;

        fflush(stdout);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int saved = errno;
                close(fds[0]);
                close(fds[1]);
                return -saved;
        }
        if (pid == 0) {
                /* Without the write end, or a pass-through would never see the end of file. */
                close(fds[1]);
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                run_pager();
        }

        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                int saved = errno;
                close(fds[1]);
                pager_close(pid);
                return -saved;
        }
        close(fds[1]);

        pager_pid = pid;
        signal(SIGINT, wait_for_pager_and_die);
        signal(SIGTERM, wait_for_pager_and_die);
        signal(SIGHUP, wait_for_pager_and_die);
        return pid;
}

void pager_close(pid_t pager) {
        if (pager <= 0)
                return;
        fflush(stdout);
        /* The pager's end of file: only the pipe's last writer closing it gives one. */
        (void) close(STDOUT_FILENO);
        while (waitpid(pager, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}
