/*
 * orphan_group.c -- lab 08, starter. Fill in the TODOs; the handout (README.md) says how.
 *
 * Usage: orphan_group LOGFILE
 *
 * The parent waits until its child has stopped, then exits. That makes their process group
 * orphaned (no member has a parent in another group of the same session) while it has a stopped
 * member, so the kernel sends the group SIGHUP and then SIGCONT. The child:
 *   1. logs each signal it catches, in the order its handlers run;
 *   2. logs who adopted it: its nearest "subreaper" ancestor, or PID 1 if there is none;
 *   3. once the shell has the terminal back, reads from the terminal: a background group that is
 *      orphaned gets EIO instead of being stopped by SIGTTIN.
 * The log goes to LOGFILE, written with write(2) only, from a descriptor opened at the start.
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
#include <time.h>
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

/* ---- signal log: handlers use only write(2) on the already open log_fd ----------------------- */

static volatile sig_atomic_t got_sighup, got_sigcont;

static void on_signal(int sig)
{
    /* TODO (task 2): log "child: caught SIGHUP" or "child: caught SIGCONT" (one line each) to
       log_fd, with async-signal-safe calls only. */
    if (sig == SIGHUP)
        got_sighup = 1;
    else
        got_sigcont = 1;
}

static void catch_signal(int sig)
{
    /* TODO (task 2): install on_signal for `sig` with sigaction(2). Which signals should be
       blocked while it runs, so that the log shows them in the order they were delivered? */
    (void)sig;
    (void)on_signal;
}

/* ---- the child ------------------------------------------------------------------------------- */

/* Stops, and sleeps until both signals of the orphaning have been caught. */
static void stop_until_orphaned(void)
{
    sigset_t both, unblocked;

    sigemptyset(&both);
    sigaddset(&both, SIGHUP);
    sigaddset(&both, SIGCONT);
    if (sigprocmask(SIG_BLOCK, &both, &unblocked) < 0) {
        perror("sigprocmask");
        _exit(EXIT_FAILURE);
    }
    sigdelset(&unblocked, SIGHUP);
    sigdelset(&unblocked, SIGCONT);

    checkpoint("child-stopping");
    /* SIGSTOP cannot be caught or ignored. Our parent's waitpid(WUNTRACED) sees us stop. */
    if (raise(SIGSTOP) != 0)
        perror("raise");
    while (!got_sighup || !got_sigcont)
        sigsuspend(&unblocked); /* the handlers run in here, in signal-number order */
    if (sigprocmask(SIG_SETMASK, &unblocked, NULL) < 0) {
        perror("sigprocmask");
        _exit(EXIT_FAILURE);
    }
}

/* Who adopted us: the PID and the command name the kernel shows for our new parent. */
static void log_adoption(pid_t old_parent)
{
    char path[64], name[64] = "?";
    pid_t parent = old_parent; /* TODO (task 3): ask the kernel who your parent is now. */

    snprintf(path, sizeof path, "/proc/%d/comm", (int)parent);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path); /* the name stays "?" */
    } else {
        ssize_t got = read(fd, name, sizeof name - 1);
        if (got < 0)
            perror("read");
        if (got > 0) {
            name[got] = '\0';
            name[strcspn(name, "\n")] = '\0';
        }
        close(fd);
    }
    log_line("child PID=%d: PPID was %d, now PPID=%d (%s)\n", (int)getpid(), (int)old_parent, (int)parent, name);
    checkpoint("child-adopted");
}

/*
 * The read must happen once our group is no longer the terminal's foreground group: while it still
 * is, the read would simply wait for input. When the parent exits, the shell takes the terminal
 * back, but in its own time (it must first learn that its job ended), so we look every 10 ms until
 * it has, for 5 s at most. The grader also waits for that moment before it lets us read.
 */
static void wait_until_background(void)
{
    const struct timespec tick = { 0, 10 * 1000 * 1000 };

    for (int i = 0; i < 500 && tcgetpgrp(STDIN_FILENO) == getpgrp(); i++)
        nanosleep(&tick, NULL);
}

static void read_terminal(void)
{
    char byte;

    wait_until_background();
    checkpoint("child-reading");
    ssize_t got = read(STDIN_FILENO, &byte, 1);
    if (got < 0 && errno == EIO)
        log_line("child PID=%d PGID=%d: read from terminal failed: EIO (orphaned group, not stopped)\n",
                 (int)getpid(), (int)getpgrp());
    else if (got < 0)
        log_line("child: read from terminal failed: %s\n", strerror(errno));
    else
        log_line("child: read from terminal returned %d\n", (int)got);
}

static void child_main(pid_t parent)
{
    catch_signal(SIGHUP); /* without a handler, the orphaning SIGHUP would kill us */
    catch_signal(SIGCONT);
    log_line("child PID=%d PPID=%d PGID=%d SID=%d: stopping\n", (int)getpid(), (int)parent, (int)getpgrp(),
             (int)getsid(0));
    stop_until_orphaned();
    log_adoption(parent);
    read_terminal();
    log_line("child PID=%d: done\n", (int)getpid());
    _exit(EXIT_SUCCESS);
}

/* ---- the parent ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: orphan_group LOGFILE\n");
        return 2;
    }
    log_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        perror(argv[1]);
        return EXIT_FAILURE;
    }
    printf("Parent: PID=%d  PGID=%d  SID=%d  logging to %s\n", (int)getpid(), (int)getpgrp(), (int)getsid(0),
           argv[1]);
    fflush(stdout);

    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return EXIT_FAILURE;
    }
    if (child == 0)
        child_main(parent);

    /*
     * Wait until the child has stopped. Exiting earlier would orphan a group with no stopped
     * member: the kernel would send nothing, and the child would then stop for good.
     */
    int status;
    if (waitpid(child, &status, WUNTRACED) < 0) {
        perror("waitpid");
        return EXIT_FAILURE;
    }
    if (!WIFSTOPPED(status)) {
        fprintf(stderr, "orphan_group: the child ended instead of stopping\n");
        return EXIT_FAILURE;
    }
    printf("Parent: child PID=%d is stopped; exiting, so group %d becomes orphaned\n", (int)child,
           (int)getpgrp());
    log_line("parent PID=%d: child %d stopped, exiting\n", (int)getpid(), (int)child);
    checkpoint("parent-exiting");
    return EXIT_SUCCESS;
}
