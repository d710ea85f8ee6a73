/*
 * session_demo.c -- KNOWN-WRONG (mutant 'tty-test-before-setsid'): tests /dev/tty before setsid(), so it reports a terminal the child then loses
 *
 * Part 1: a process group leader cannot start a new session: setsid() fails with EPERM.
 * Part 2: a forked child is never a group leader, so its setsid() works: it becomes the leader of a
 *         new session and of a new group (PID == PGID == SID), with no controlling terminal.
 *         The original process stays where it was, in the shell's session, on the terminal.
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void print_ids(const char *who)
{
    printf("%s PID=%d  PGID=%d  SID=%d\n", who, (int)getpid(), (int)getpgrp(), (int)getsid(0));
}

/* The symbolic name of the error codes this lab expects, as the man pages spell them. */
static const char *errno_name(int error)
{
    switch (error) {
    case EPERM:
        return "EPERM";
    case ENXIO:
        return "ENXIO";
    default:
        return "an unexpected error";
    }
}

/* Part 1: the shell made this process the leader of its group, so setsid() must refuse. */
static void try_setsid_as_group_leader(void)
{
    if (setsid() < 0) {
        int error = errno;
        printf("Original: setsid() failed with %s (%s): a group leader cannot start a session\n",
               errno_name(error), strerror(error));
    } else {
        printf("Original: setsid() succeeded, which a group leader's should not\n");
    }
    checkpoint("leader-tried-setsid");
}

/* Does this process have a controlling terminal? /dev/tty opens it if there is one. */
static void report_controlling_terminal(const char *who)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);

    if (fd >= 0) {
        printf("%s open(\"/dev/tty\") succeeded: I still have a controlling terminal\n", who);
        close(fd);
    } else {
        int error = errno;
        printf("%s open(\"/dev/tty\") failed with %s (%s): no controlling terminal\n", who,
               errno_name(error), strerror(error));
    }
}

static void child_starts_session(void)
{
    report_controlling_terminal("Child:");
    if (setsid() < 0) {
        perror("setsid");
        end_child(EXIT_FAILURE);
    }
    print_ids("Child:");
    checkpoint("child-new-session");
    end_child(EXIT_SUCCESS);
}

int main(void)
{
    print_ids("Original:");
    checkpoint("original-start");
    try_setsid_as_group_leader();

    /* The fix for EPERM: fork. The child gets a new PID, so it leads no group, and may setsid(). */
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return EXIT_FAILURE;
    }
    if (child == 0)
        child_starts_session();

    int status;
    if (waitpid(child, &status, 0) < 0) {
        perror("waitpid");
        return EXIT_FAILURE;
    }
    print_ids("Original after child:");
    checkpoint("original-after");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
