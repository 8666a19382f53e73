/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* A textual polkit authentication agent (pkttyagent) that lives as long as one privileged call,
 * so that polkit can ask for a password on the terminal the client runs on, as systemctl does.
 * The agent is registered for this process only, so it answers for no other program. */

/* Starts the agent when it can help: asking is allowed, stdin is a terminal (someone can type a
 * password) and we are not root (vfio-passthroughd does not ask polkit about root). Waits until
 * the agent has registered, so polkit finds it when the call arrives. Failing to start it is not
 * an error: the call then runs without one and polkit decides without asking. Sets *ret_pid to
 * the agent's pid, or 0 when none runs. */
void polkit_agent_open(bool ask_password, pid_t *ret_pid);

/* Stops the agent, if one runs, and reaps it. For _cleanup_. */
void polkit_agent_closep(pid_t *pid);
