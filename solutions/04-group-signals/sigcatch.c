/*
 * sigcatch.c -- lab 04, reference solution.
 *
 * Usage: sigcatch        then press Ctrl-C once.
 *
 * A parent and its child both catch SIGINT. One Ctrl-C reaches both: the terminal sends SIGINT to
 * its whole foreground group, and the child is in its parent's group. Then the parent signals the
 * child alone with kill(child, SIGINT): only the child catches that one. The child ends, and stays a
 * zombie (state Z) until the parent reaps it with waitpid().
 */
#include "checkpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Written before the handler is installed, so that the handler only has to call write(2). */
static char caught_message[128];
static size_t caught_length;
static volatile sig_atomic_t sigint_count;

static void on_sigint(int sig)
{
    int saved_errno = errno; /* write() may change errno under the code we interrupted */

    (void)sig;
    (void)!write(STDOUT_FILENO, caught_message, caught_length);
    sigint_count++;
    errno = saved_errno;
}

/* Installs on_sigint for this process; `who` is "Parent" or "Child". SIGINT must be blocked. */
static void catch_sigint(const char *who)
{
    struct sigaction action;

    snprintf(caught_message, sizeof caught_message, "%s: caught SIGINT  PID=%d\n", who, (int)getpid());
    caught_length = strlen(caught_message);
    sigint_count = 0;

    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, NULL) < 0) {
        perror("sigaction");
        exit(EXIT_FAILURE);
    }
}

/*
 * Waits until SIGINT has been caught `count` times in all. SIGINT stays blocked except inside
 * sigsuspend(), which unblocks it and sleeps in one step: with a plain "while (count < n) pause();"
 * a signal arriving between the test and pause() would be missed and we would sleep forever.
 */
static void wait_for_sigint(int count, const sigset_t *unblocked)
{
    while (sigint_count < count)
        sigsuspend(unblocked);
}

/* Returns 1 once a byte arrived, 0 at EOF or on an error. SIGINT is blocked here: no EINTR. */
static int read_byte(int fd)
{
    char byte;
    ssize_t got = read(fd, &byte, 1);

    if (got < 0)
        perror("read");
    return got == 1;
}

static void child_main(int ready, const sigset_t *unblocked)
{
    catch_sigint("Child"); /* the inherited handler would say "Parent"; install our own */
    printf("Child: PID=%d  PGID=%d  handler installed\n", (int)getpid(), (int)getpgrp());
    fflush(stdout);
    checkpoint("child-ready");

    wait_for_sigint(1, unblocked); /* Ctrl-C */
    if (write(ready, "!", 1) != 1) /* tell the parent: it may send its SIGINT now */
        perror("write");
    close(ready);
    wait_for_sigint(2, unblocked); /* the parent's kill(child, SIGINT) */
    printf("Child: PID=%d  caught SIGINT %d times, exiting with status 0\n", (int)getpid(),
           (int)sigint_count);
    fflush(stdout);
    _exit(EXIT_SUCCESS);
}

/* Reaps the child and reports how it ended; returns 1 if it exited with status 0. */
static int reap(pid_t child)
{
    int status;

    if (waitpid(child, &status, 0) < 0) {
        perror("waitpid");
        return 0;
    }
    if (WIFSIGNALED(status)) {
        printf("Parent: reaped PID=%d  killed by signal %d\n", (int)child, WTERMSIG(status));
        return 0;
    }
    printf("Parent: reaped PID=%d  exit status %d\n", (int)child, WEXITSTATUS(status));
    return WEXITSTATUS(status) == 0;
}

int main(void)
{
    sigset_t only_sigint, unblocked;

    /* Block SIGINT first: from here on a Ctrl-C is kept pending until we are ready to catch it. */
    sigemptyset(&only_sigint);
    sigaddset(&only_sigint, SIGINT);
    if (sigprocmask(SIG_BLOCK, &only_sigint, &unblocked) < 0) {
        perror("sigprocmask");
        return EXIT_FAILURE;
    }
    sigdelset(&unblocked, SIGINT);
    catch_sigint("Parent");
    printf("Parent: PID=%d  PGID=%d  SID=%d  handler installed\n", (int)getpid(), (int)getpgrp(),
           (int)getsid(0));

    /* The child writes one byte here once it has caught Ctrl-C (see below). */
    int ready[2];
    if (pipe(ready) < 0) {
        perror("pipe");
        return EXIT_FAILURE;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return EXIT_FAILURE;
    }
    if (child == 0) {
        close(ready[0]);
        child_main(ready[1], &unblocked);
    }
    close(ready[1]);
    checkpoint("parent-ready");

    wait_for_sigint(1, &unblocked); /* Ctrl-C */
    /*
     * Two SIGINTs pending in one process count as one. So the parent must not send its own before
     * the child has caught the one from Ctrl-C: it waits for the child's byte on the pipe.
     */
    if (!read_byte(ready[0])) {
        fprintf(stderr, "sigcatch: the child ended before it caught Ctrl-C\n");
        reap(child);
        return EXIT_FAILURE;
    }
    checkpoint("parent-caught");
    printf("Parent: sending SIGINT to PID=%d only: kill(%d, SIGINT)\n", (int)child, (int)child);
    fflush(stdout);
    if (kill(child, SIGINT) < 0)
        perror("kill");

    checkpoint("before-waitpid"); /* the child may be a zombie now: it has ended, nobody reaped it */
    int ok = reap(child);
    checkpoint("after-waitpid");
    /*
     * Unblock SIGINT before counting. A SIGINT sent to this process after Ctrl-C's (by a kill()
     * aimed at more than the child) has waited here, blocked; now its handler runs and is counted.
     */
    if (sigprocmask(SIG_UNBLOCK, &only_sigint, NULL) < 0) {
        perror("sigprocmask");
        return EXIT_FAILURE;
    }
    printf("Parent: PID=%d  caught SIGINT %d time(s)\n", (int)getpid(), (int)sigint_count);
    return ok && sigint_count == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}
