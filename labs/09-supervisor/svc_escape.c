/*
 * svc_escape.c -- a test service for lab 09 (provided, complete; do not change it).
 *
 * Usage: svc_escape
 *
 * Builds this tree, then waits for signals:
 *
 *   svc_escape (main)         group G: the group supervise made for it
 *     ├── worker              group G
 *     └── helper ── escapee   helper exits at once; escapee calls setsid(): group E, session E
 *
 * The helper exits right after forking, like a program that daemonizes a helper process, so the
 * escapee is an orphan from the start: it is re-parented to the nearest subreaper (a supervisor
 * that asked for it) or else to PID 1. A signal to group G never reaches it.
 * Every process prints one line when it gets SIGTERM and exits 0.
 *
 * Checkpoints: "escaped" (escapee, after setsid), "service-running" (main, once the helper has
 * exited, so the escapee has already been re-parented).
 */
#include "checkpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *role = "main";

/* Only async-signal-safe calls: format by hand, write(2), _exit(2). */
static void on_sigterm(int sig)
{
    char line[96] = "svc_escape: ";
    char digits[16];
    long pid = (long)getpid();
    int n = 0;

    (void)sig;
    strcat(line, role);
    strcat(line, " PID=");
    do
        digits[n++] = (char)('0' + pid % 10);
    while ((pid /= 10) > 0);
    size_t length = strlen(line);
    while (n > 0)
        line[length++] = digits[--n];
    line[length] = '\0';
    strcat(line, " got SIGTERM, exiting\n");
    (void)!write(STDOUT_FILENO, line, strlen(line));
    _exit(0);
}

static void wait_for_signals(void)
{
    for (;;)
        pause();
}

static void report(void)
{
    printf("svc_escape: %s PID=%ld PPID=%ld PGID=%ld SID=%ld\n", role, (long)getpid(),
           (long)getppid(), (long)getpgrp(), (long)getsid(0));
    fflush(stdout);
}

static pid_t fork_or_die(void)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    return pid;
}

int main(void)
{
    struct sigaction action;
    pid_t helper;

    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigterm;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) < 0) {
        perror("sigaction");
        return 1;
    }
    report();

    if (fork_or_die() == 0) {
        role = "worker";
        report();
        wait_for_signals();
    }

    helper = fork_or_die();
    if (helper == 0) {
        if (fork_or_die() > 0)
            _exit(0); /* the helper leaves its child behind */
        if (setsid() < 0) {
            perror("setsid");
            _exit(1);
        }
        role = "escapee";
        report();
        checkpoint("escaped");
        wait_for_signals();
    }
    if (waitpid(helper, NULL, 0) < 0)
        perror("waitpid");
    checkpoint("service-running");
    wait_for_signals();
}
