/*
 * kill_group.c -- lab 04, reference solution.
 *
 * Usage: kill_group [SIGNAL]      SIGNAL is a number, default 15 (SIGTERM); see parse_signal().
 *
 * Part 1: three children in one new process group; the parent, outside that group, sends one signal
 *         to the whole group with kill(-pgid, sig), reaps every child and reports how each ended.
 * Part 2: a group that signals itself. A coordinator leads a new group with two members, one that
 *         ignores the signal and one that does not, and calls kill(0, sig): "my own group", which
 *         includes the caller, so the coordinator ignores the signal too.
 */
#include "checkpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 3

/* Only signals whose default action ends the process and that may be ignored make sense here. */
static int parse_signal(int argc, char **argv)
{
    static const int allowed[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM };
    int sig = argc > 1 ? atoi(argv[1]) : SIGTERM;

    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (allowed[i] == sig)
            return sig;
    fprintf(stderr, "usage: kill_group [SIGNAL]  (SIGNAL: 1, 2, 3, 10, 12, 14 or 15; default 15)\n");
    exit(2);
}

/* fork(), after flushing stdout so that the child does not inherit (and repeat) buffered output. */
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

/* Waits for one child and reports how it ended; returns the signal that killed it, or 0. */
static int reap(pid_t child, const char *who)
{
    int status;

    if (waitpid(child, &status, 0) < 0) {
        perror("waitpid");
        return 0;
    }
    if (WIFSIGNALED(status)) {
        printf("%s: reaped PID=%d  killed by signal %d (%s)\n", who, (int)child, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
        return WTERMSIG(status);
    }
    printf("%s: reaped PID=%d  exited with status %d\n", who, (int)child, WEXITSTATUS(status));
    return 0;
}

/* ---- Part 1 ------------------------------------------------------------------------------- */

/* In child number `index`: join the group (0: a new one led by this child), report, wait. */
static void child_main(int index, pid_t leader)
{
    checkpoint("child-forked");
    if (setpgid(0, leader) < 0) { /* the parent may have done it already; doing it again is harmless */
        perror("setpgid");
        _exit(EXIT_FAILURE);
    }
    printf("Child %d: PID=%d  PGID=%d\n", index, (int)getpid(), (int)getpgrp());
    fflush(stdout);
    checkpoint("child-waiting");
    for (;;)
        pause(); /* the default action of the signal ends us, wherever we are */
}

/*
 * Forks the children into one new group, led by the first. Both sides call setpgid, because after
 * fork() either may run first. The parent does it because it is about to signal the group: if only
 * the children did, kill(-leader, sig) could find no such group (ESRCH) or miss a child that had not
 * joined it yet. The child does it because it reports (and could act on) its group at once: if only
 * the parent did, a child that runs first would still be in the parent's group.
 */
static pid_t make_group(pid_t children[CHILDREN])
{
    pid_t leader = 0;

    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork_flushed();
        if (pid == 0)
            child_main(i, leader);
        if (leader == 0)
            leader = pid;
        checkpoint("parent-forked"); /* the grader may hold us here, to let the child run first */
        if (setpgid(pid, leader) < 0)
            perror("setpgid(child)");
        children[i] = pid;
    }
    return leader;
}

static int part1_signal_group(int sig)
{
    pid_t children[CHILDREN];
    pid_t group = make_group(children);
    int killed = 0;

    checkpoint("group-ready");
    printf("Parent: sending signal %d to group %d: kill(-%d, %d), the same as killpg(%d, %d)\n", sig,
           (int)group, (int)group, sig, (int)group, sig);
    fflush(stdout);
    /* One call reaches the members of this moment, also any that joined without our knowing. */
    if (kill(-group, sig) < 0) /* negative PID: every process whose PGID is `group` */
        perror("kill");
    checkpoint("signal-sent");

    for (int i = 0; i < CHILDREN; i++)
        killed += reap(children[i], "Parent") == sig;
    printf("Parent: PID=%d  PGID=%d  survived (not in group %d)\n", (int)getpid(), (int)getpgrp(),
           (int)group);
    checkpoint("all-reaped");
    return killed == CHILDREN;
}

/* ---- Part 2 ------------------------------------------------------------------------------- */

/* A member blocks reading a pipe; it ends when the signal kills it or when the pipe reaches EOF. */
static void member_main(int read_end)
{
    char byte;

    while (read(read_end, &byte, 1) > 0)
        continue;
    /* An ignored signal is thrown away: it does not even interrupt read(). */
    printf("Member: PID=%d  PGID=%d  still alive after its group was signalled\n", (int)getpid(),
           (int)getpgrp());
    fflush(stdout); /* _exit() skips stdio: into a pipe (./kill_group | cat) the line would be lost */
    _exit(EXIT_SUCCESS);
}

static pid_t fork_member(int pipe_fds[2])
{
    pid_t pid = fork_flushed();

    if (pid == 0) {
        close(pipe_fds[1]); /* else the member would hold its own pipe open and never see EOF */
        member_main(pipe_fds[0]);
    }
    return pid;
}

/* The coordinator: leads a new group, and signals it with kill(0, sig). */
static void coordinator_main(int sig)
{
    int pipe_fds[2];

    if (setpgid(0, 0) < 0) {
        perror("setpgid");
        _exit(EXIT_FAILURE);
    }
    if (pipe(pipe_fds) < 0) {
        perror("pipe");
        _exit(EXIT_FAILURE);
    }
    printf("Coordinator: PID=%d  PGID=%d\n", (int)getpid(), (int)getpgrp());
    checkpoint("coordinator-start");

    /*
     * Dispositions are copied at fork, so each member's fate is fixed before anyone can send a
     * signal: the first member is forked while `sig` still has its default action, then we ignore
     * it, and the second member inherits the ignoring. No race, no synchronisation needed.
     */
    pid_t dies = fork_member(pipe_fds);
    if (signal(sig, SIG_IGN) == SIG_ERR) { /* kill(0, sig) includes ourselves */
        perror("signal");
        _exit(EXIT_FAILURE);
    }
    pid_t ignores = fork_member(pipe_fds);
    close(pipe_fds[0]);
    printf("Coordinator: members PID=%d (default action)  PID=%d (ignores signal %d)\n", (int)dies,
           (int)ignores, sig);

    printf("Coordinator: sending signal %d to my own group %d: kill(0, %d)\n", sig, (int)getpgrp(), sig);
    fflush(stdout);
    if (kill(0, sig) < 0)
        perror("kill");
    checkpoint("group-signalled");

    int ok = reap(dies, "Coordinator") == sig;
    close(pipe_fds[1]); /* EOF: tells the surviving member to finish */
    ok &= reap(ignores, "Coordinator") == 0;
    printf("Coordinator: PID=%d  survived its own kill(0, %d)\n", (int)getpid(), sig);
    fflush(stdout); /* _exit() does not flush stdio buffers */
    _exit(ok ? EXIT_SUCCESS : EXIT_FAILURE);
}

static int part2_signal_own_group(int sig)
{
    pid_t coordinator = fork_flushed();
    int status;

    if (coordinator == 0)
        coordinator_main(sig);
    if (waitpid(coordinator, &status, 0) < 0) {
        perror("waitpid");
        return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
    int sig = parse_signal(argc, argv);

    printf("Parent: PID=%d  PGID=%d  SID=%d\n", (int)getpid(), (int)getpgrp(), (int)getsid(0));
    checkpoint("parent-start");

    int ok = part1_signal_group(sig);
    ok &= part2_signal_own_group(sig);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
