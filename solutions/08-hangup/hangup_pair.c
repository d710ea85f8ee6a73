/*
 * hangup_pair.c -- lab 08, reference solution.
 *
 * Usage: hangup_pair LOGFILE      then close the terminal (its window, or the grader's pty).
 *
 * Two processes of one foreground job meet the same hangup:
 *   - the parent ignores SIGHUP, as nohup(1) arranges, and survives: it notices the hangup when its
 *     read from the terminal ends, reaps its child and logs how the child ended;
 *   - the child catches SIGHUP only to log it, then dies of it like a process that never
 *     handled it.
 * Everything goes to LOGFILE, because after a hangup the terminal is gone. Lines are written with
 * write(2) on a descriptor opened at the start; the handler uses nothing else (see the handout).
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int log_fd = -1;

/* Outside handlers: format one line and write it in one write(2) (O_APPEND keeps lines whole). */
static void log_line(const char *format, ...)
{
    char line[256];
    va_list args;

    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof line)
        length = sizeof line - 1;
    if (write(log_fd, line, (size_t)length) < 0)
        perror("write");
}

static void open_log(const char *path)
{
    log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        perror(path);
        exit(EXIT_FAILURE);
    }
}

/* What the kernel has on record for SIGHUP in this process: the same as SigIgn/SigCgt in /proc. */
static const char *sighup_disposition(void)
{
    struct sigaction current;

    if (sigaction(SIGHUP, NULL, &current) < 0)
        return "unknown";
    if (current.sa_handler == SIG_IGN)
        return "ignored";
    return current.sa_handler == SIG_DFL ? "default" : "caught";
}

/* ---- the child: logs SIGHUP, then dies of it ------------------------------------------------ */

static char hup_message[128]; /* formatted before the handler is installed */
static size_t hup_length;

static void on_sighup(int sig)
{
    /* Only async-signal-safe calls: write, signal, raise. No printf, no fprintf, no malloc. */
    (void)!write(log_fd, hup_message, hup_length);
    signal(sig, SIG_DFL); /* then die of the same signal, so the parent's waitpid() sees it */
    raise(sig);
}

static void child_main(void)
{
    struct sigaction action;

    snprintf(hup_message, sizeof hup_message, "child PID=%d: caught SIGHUP, dying of it\n", (int)getpid());
    hup_length = strlen(hup_message);
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sighup;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGHUP, &action, NULL) < 0) {
        perror("sigaction");
        _exit(EXIT_FAILURE);
    }
    log_line("child PID=%d PGID=%d SID=%d: SIGHUP %s\n", (int)getpid(), (int)getpgrp(), (int)getsid(0),
             sighup_disposition());
    checkpoint("child-ready");
    for (;;)
        pause();
}

/* ---- the parent: ignores SIGHUP and outlives the terminal ----------------------------------- */

/* Blocks until the terminal goes away: after a hangup, read() returns 0 (or fails with EIO). */
static void wait_for_hangup(void)
{
    char buffer[256];
    ssize_t got;

    while ((got = read(STDIN_FILENO, buffer, sizeof buffer)) > 0)
        continue; /* whatever is typed is thrown away */
    if (got == 0)
        log_line("parent PID=%d: terminal read returned 0 (hung up)\n", (int)getpid());
    else
        log_line("parent PID=%d: terminal read failed: %s\n", (int)getpid(), strerror(errno));
}

static void reap(pid_t child)
{
    int status;

    if (waitpid(child, &status, 0) < 0) {
        log_line("parent: waitpid: %s\n", strerror(errno));
        return;
    }
    if (WIFSIGNALED(status))
        log_line("parent: reaped child PID=%d, killed by signal %d\n", (int)child, WTERMSIG(status));
    else
        log_line("parent: reaped child PID=%d, exit status %d\n", (int)child, WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hangup_pair LOGFILE\n");
        return 2;
    }
    open_log(argv[1]);

    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return EXIT_FAILURE;
    }
    if (child == 0)
        child_main();

    /* What nohup does before it execs a command: SIG_IGN, which also survives exec. */
    if (signal(SIGHUP, SIG_IGN) == SIG_ERR) {
        perror("signal");
        return EXIT_FAILURE;
    }
    log_line("parent PID=%d PGID=%d SID=%d: SIGHUP %s\n", (int)getpid(), (int)getpgrp(), (int)getsid(0),
             sighup_disposition());
    printf("hangup_pair: parent PID=%d, child PID=%d; logging to %s. Now close this terminal.\n",
           (int)getpid(), (int)child, argv[1]);
    fflush(stdout);
    checkpoint("parent-ready");

    wait_for_hangup();
    reap(child);
    checkpoint("parent-survived");
    log_line("parent PID=%d: survived the hangup, exiting\n", (int)getpid());
    return EXIT_SUCCESS;
}
