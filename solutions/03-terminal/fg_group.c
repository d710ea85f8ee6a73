/*
 * fg_group.c -- is this process in the terminal's foreground process group?
 *
 * Usage: fg_group
 *
 * Asks the terminal on stdin which process group is in the foreground (tcgetpgrp(3)) and compares
 * it with our own group. Run it plainly and with '&' and compare. Output:
 *
 *   Foreground PGID=5012
 *   My PID=5012  PGID=5012
 *   In foreground=yes
 *
 * Checkpoint: "printed", after the three lines are printed and flushed, just before exiting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpoint.h"

/* The group the terminal on stdin sends typed input and Ctrl-C / Ctrl-Z to, or -1 on error. */
static pid_t terminal_foreground_group(void)
{
    pid_t foreground = tcgetpgrp(STDIN_FILENO);

    if (foreground < 0)
        perror("tcgetpgrp");
    return foreground;
}

int main(void)
{
    pid_t foreground = terminal_foreground_group();
    pid_t group = getpgrp();

    if (foreground < 0)
        return EXIT_FAILURE;

    printf("Foreground PGID=%ld\n", (long)foreground);
    printf("My PID=%ld  PGID=%ld\n", (long)getpid(), (long)group);
    /* Being a group leader says nothing about the terminal: only this comparison does. */
    printf("In foreground=%s\n", foreground == group ? "yes" : "no");
    if (fflush(stdout) == EOF) {
        perror("fflush");
        return EXIT_FAILURE;
    }

    checkpoint("printed");
    return EXIT_SUCCESS;
}
