/*
 * fg_group.c -- is this process in the terminal's foreground process group?
 *
 * Usage: fg_group
 *
 * Asks the terminal on stdin which process group is in the foreground and compares it with our
 * own group. Run it plainly and with '&' and compare. Output (see the handout, section 2):
 *
 *   Foreground PGID=5012
 *   My PID=5012  PGID=5012
 *   In foreground=yes
 *
 * Checkpoint: "printed", after the three lines are printed and flushed, just before exiting.
 * Keep the checkpoint call where it is: the grader looks at the process while it waits there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpoint.h"

/* The group the terminal on stdin sends typed input and Ctrl-C / Ctrl-Z to, or -1 on error. */
static pid_t terminal_foreground_group(void)
{
    /* TODO (section 2): ask the terminal on stdin for its foreground process group (tcgetpgrp(3)).
     * Report a failure with perror("tcgetpgrp") and return -1. */
    return -1;
}

int main(void)
{
    pid_t foreground = terminal_foreground_group();
    pid_t group = getpgrp();
    int in_foreground = 0;

    /* TODO (section 2): set in_foreground: are we in the group the terminal serves? */

    printf("Foreground PGID=%ld\n", (long)foreground);
    printf("My PID=%ld  PGID=%ld\n", (long)getpid(), (long)group);
    printf("In foreground=%s\n", in_foreground ? "yes" : "no");
    if (fflush(stdout) == EOF) {
        perror("fflush");
        return EXIT_FAILURE;
    }

    checkpoint("printed");
    return EXIT_SUCCESS;
}
