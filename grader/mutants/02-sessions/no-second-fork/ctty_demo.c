/*
 * ctty_demo.c -- KNOWN-WRONG (mutant 'no-second-fork'): the session leader opens the terminal itself instead of forking first
 *
 * A session leader without a controlling terminal acquires the first terminal it opens without
 * O_NOCTTY. A process that is not a session leader never acquires one. Each case uses a fresh
 * pseudo-terminal that this program creates itself (posix_openpt), so nothing depends on the
 * terminal it was started from.
 */
#define _XOPEN_SOURCE 600 /* posix_openpt, grantpt, unlockpt and ptsname are X/Open interfaces */

#include "checkpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Ends a child process. _exit(), not exit(): a forked child must not run the exit handlers it
 * inherited from its parent. But _exit() throws away stdio buffers, and when stdout is a pipe or a
 * file it is fully buffered, so flush the child's own lines first.
 */
static void end_child(int status)
{
    fflush(stdout);
    _exit(status);
}

/* Creates a pseudo-terminal pair; returns the master and stores the slave's path in `slave`. */
static int open_pty_master(const char **slave)
{
    /* O_NOCTTY: the master side must never become anyone's controlling terminal. */
    int master = posix_openpt(O_RDWR | O_NOCTTY);

    if (master < 0) {
        perror("posix_openpt");
        exit(EXIT_FAILURE);
    }
    if (grantpt(master) < 0 || unlockpt(master) < 0) {
        perror("grantpt/unlockpt");
        exit(EXIT_FAILURE);
    }
    *slave = ptsname(master);
    if (*slave == NULL) {
        perror("ptsname");
        exit(EXIT_FAILURE);
    }
    return master;
}

static int open_terminal(const char *path, int flags)
{
    int fd = open(path, O_RDWR | flags);

    if (fd < 0) {
        perror(path);
        exit(EXIT_FAILURE);
    }
    return fd;
}

/* What the kernel says now: /dev/tty opens only for a process with a controlling terminal. */
static void report(const char *who, const char *how, const char *slave)
{
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);

    printf("%s PID=%d  SID=%d  opened %s %s: controlling terminal: %s\n", who, (int)getpid(),
           (int)getsid(0), slave, how, tty >= 0 ? "yes" : "none");
    if (tty >= 0)
        close(tty);
}

static void start_session(void)
{
    if (setsid() < 0) {
        perror("setsid");
        end_child(EXIT_FAILURE);
    }
}

static void wait_for(pid_t child)
{
    if (waitpid(child, NULL, 0) < 0)
        perror("waitpid");
}

static pid_t fork_flushed(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(EXIT_FAILURE);
    }
    return pid;
}

/* Case 1 and 2: a session leader opens a terminal with O_NOCTTY, then without it. */
static void session_leader_opens_terminal(void)
{
    const char *slave;

    start_session();
    int master = open_pty_master(&slave);
    int quiet = open_terminal(slave, O_NOCTTY);
    checkpoint("leader-opened-noctty");
    report("Leader:", "with O_NOCTTY", slave);

    int acquired = open_terminal(slave, 0);
    checkpoint("leader-opened-tty");
    report("Leader:", "without O_NOCTTY", slave);
    /* Closing the master hangs up this terminal, and the kernel sends SIGHUP to the session's
     * leader, which is now this process: without this, it would die before its output is flushed. */
    signal(SIGHUP, SIG_IGN);
    close(acquired);
    close(quiet);
    close(master);
}

/* Case 3: a session leader forks, and its child, which is not a session leader, opens a terminal
 * without O_NOCTTY. This is a daemon after its second fork: it can never acquire a terminal. */
static void non_leader_opens_terminal(void)
{
    start_session();
    pid_t child = 0;
    if (child == 0) {
        const char *slave;
        int master = open_pty_master(&slave);
        int fd = open_terminal(slave, 0);
        checkpoint("nonleader-opened-tty");
        report("Non-leader:", "without O_NOCTTY", slave);
        close(fd);
        close(master);
        end_child(EXIT_SUCCESS);
    }
    wait_for(child);
}

static void in_child(void (*task)(void))
{
    pid_t child = fork_flushed();

    if (child == 0) {
        task();
        end_child(EXIT_SUCCESS);
    }
    wait_for(child);
}

int main(void)
{
    in_child(session_leader_opens_terminal);
    in_child(non_leader_opens_terminal);
    return EXIT_SUCCESS;
}
