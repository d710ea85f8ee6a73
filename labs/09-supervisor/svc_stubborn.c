/*
 * svc_stubborn.c -- a test service for lab 09 (provided, complete; do not change it).
 *
 * Usage: svc_stubborn
 *
 * Ignores SIGTERM and waits forever: only SIGKILL stops it. Checkpoint "ignoring-sigterm" once
 * SIGTERM is ignored.
 */
#include "checkpoint.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    if (signal(SIGTERM, SIG_IGN) == SIG_ERR) {
        perror("signal");
        return 1;
    }
    printf("svc_stubborn: PID=%ld PGID=%ld ignores SIGTERM\n", (long)getpid(), (long)getpgrp());
    fflush(stdout);
    checkpoint("ignoring-sigterm");
    for (;;)
        pause();
}
