/*
 * proc_info.c -- where does this process sit: parent, group, session, terminal?
 *
 * Usage: proc_info
 *
 * Output when typed plainly into a shell (the values are examples):
 *
 *   PID=5012  PPID=4900  PGID=5012  SID=4900
 *   Foreground PGID=5012
 *   Session leader=no  Group leader=yes
 *
 * The foreground group is asked of the terminal on stdin. When stdin is not a terminal (a pipe,
 * /dev/null, a file), the second line says so instead of printing tcgetpgrp's -1:
 *
 *   Foreground PGID=none (stdin is not a terminal)
 *
 * Checkpoint: "printed", after the three lines are printed and flushed, just before exiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpoint.h"

static const char *yes_no(int condition)
{
    return condition ? "yes" : "no";
}

/* Prints the "Foreground PGID=" line for the terminal on stdin, or why there is none. */
static void print_foreground_group(void)
{
    pid_t foreground;

    if (!isatty(STDIN_FILENO)) {
        printf("Foreground PGID=none (stdin is not a terminal)\n");
        return;
    }
    foreground = tcgetpgrp(STDIN_FILENO);
    if (foreground < 0) {
        /* ENOTTY here: stdin is a terminal, but not the controlling terminal of our session. */
        if (errno == ENOTTY) {
            printf("Foreground PGID=none (stdin is not our controlling terminal)\n");
            return;
        }
        perror("tcgetpgrp");
        printf("Foreground PGID=none (tcgetpgrp failed)\n");
        return;
    }
    printf("Foreground PGID=%ld\n", (long)foreground);
}

int main(void)
{
    pid_t pid = getpid();
    pid_t group = getpgrp();
    pid_t session = getsid(0);

    if (session < 0) {
        perror("getsid");
        return EXIT_FAILURE;
    }

    printf("PID=%ld  PPID=%ld  PGID=%ld  SID=%ld\n", (long)pid, (long)getppid(), (long)group,
           (long)session);
    print_foreground_group();
    /* A leader is the process whose PID became the ID: of the session, of the group. */
    printf("Session leader=%s  Group leader=%s\n", yes_no(pid == session), yes_no(pid == group));
    /* stdout may be a pipe ("proc_info | cat"): then stdio holds the lines until we flush. */
    if (fflush(stdout) == EOF) {
        perror("fflush");
        return EXIT_FAILURE;
    }

    checkpoint("printed");
    return EXIT_SUCCESS;
}
