/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "polkit-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

/* An absolute path, as systemctl uses: the agent reads a password, so it is not looked up in
 * $PATH. Distributions that install it elsewhere define this when building. */
#ifndef POLKIT_AGENT_PATH
#define POLKIT_AGENT_PATH "/usr/bin/pkttyagent"
#endif

/* How long to wait for the agent to register with polkitd. Beyond that the call goes ahead
 * without a prompt rather than hanging on a polkitd that does not answer. */
#define AGENT_REGISTER_TIMEOUT_MS 10000

/* "pid,start-time" as pkttyagent's --process wants it: the start time (field 22 of
 * /proc/self/stat, in clock ticks since boot) tells this process apart from a later one that
 * reuses the pid. Falls back to the bare pid, which pkttyagent then resolves itself. */
static void format_process_subject(char *buf, size_t size) {
        _cleanup_(fclosep) FILE *f = NULL;
        char stat[1024];
        unsigned long long start_time;
        const char *p;

        snprintf(buf, size, "%d", (int) getpid());
        f = fopen("/proc/self/stat", "re");
        if (!f || !fgets(stat, sizeof(stat), f))
                return;
        /* The command name in parentheses may contain spaces; the fields after it do not. */
        p = strrchr(stat, ')');
        if (!p)
                return;
        /* After ")": fields 3 (state) to 21, then the start time. */
        if (sscanf(p + 1, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                   &start_time) != 1)
                return;
        snprintf(buf, size, "%d,%llu", (int) getpid(), start_time);
}

/* The agent talks to the person at the terminal, not to whatever stdout or stderr were
 * redirected to (a JSON file, a pipe). Best effort: on failure it keeps them. */
static void point_at_terminal(int fd) {
        int tty;

        if (isatty(fd))
                return;
        tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (tty < 0)
                return;
        (void) dup2(tty, fd); /* the copy is not close-on-exec */
        close(tty);
}

/* In the child. */
__attribute__((noreturn)) static void exec_agent(int notify_fd, pid_t parent, const char *subject) {
        char notify_fd_text[16];

        /* Die with the client, even when it is killed before it can stop the agent. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        /* Everything the client opened is close-on-exec; only the notify fd must survive. */
        if (fcntl(notify_fd, F_SETFD, 0) < 0)
                _exit(EXIT_FAILURE);
        snprintf(notify_fd_text, sizeof(notify_fd_text), "%d", notify_fd);
        point_at_terminal(STDOUT_FILENO);
        point_at_terminal(STDERR_FILENO);

        execv(POLKIT_AGENT_PATH, (char *const[]) { (char *) POLKIT_AGENT_PATH, (char *) "--notify-fd", notify_fd_text,
                                                  (char *) "--fallback", (char *) "--process", (char *) subject,
                                                  NULL });
        _exit(127); /* not installed: the call goes ahead without a prompt */
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The agent closes the notify fd once it has registered, and exits (closing it too) when it
 * cannot; either way the read end sees end-of-file. */
static void wait_for_registration(int notify_read) {
        int64_t deadline = now_ms() + AGENT_REGISTER_TIMEOUT_MS;

        for (;;) {
                struct pollfd pfd = { .fd = notify_read, .events = POLLIN };
                int64_t left = deadline - now_ms();
                char byte;
                int r;

                if (left <= 0)
                        return;
                r = poll(&pfd, 1, (int) left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return;
                r = read(notify_read, &byte, 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return;
                /* The agent never writes; a byte would be a stranger's. Keep waiting for EOF. */
        }
}

void polkit_agent_open(bool ask_password, pid_t *ret_pid) {
        _cleanup_(closep) int notify_read = -1, notify_write = -1;
        char subject[64];
        int pipe_fds[2];
        pid_t parent = getpid(), child;

        *ret_pid = 0;
        if (!ask_password || !isatty(STDIN_FILENO) || geteuid() == 0)
                return;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return;
        notify_read = pipe_fds[0];
        notify_write = pipe_fds[1];
        format_process_subject(subject, sizeof(subject));

        /* Whatever stdio holds must not be written twice, once by each process. */
        fflush(stdout);
        fflush(stderr);
        child = fork();
        if (child < 0)
                return;
        if (child == 0)
                exec_agent(notify_write, parent, subject);

        closep(&notify_write);
        notify_write = -1;
        wait_for_registration(notify_read);
        *ret_pid = child;
}

void polkit_agent_closep(pid_t *pid) {
        int saved_errno = errno;

        if (*pid <= 0)
                return;
        /* SIGCONT too: a stopped agent would not see the SIGTERM, and waitpid would hang. */
        kill(*pid, SIGTERM);
        kill(*pid, SIGCONT);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
        errno = saved_errno;
}
