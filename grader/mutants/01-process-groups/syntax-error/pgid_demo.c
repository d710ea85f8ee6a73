/*
 * pgid_demo.c -- KNOWN-WRONG (mutant 'syntax-error'): a missing semicolon: the lab does not compile
 *
 * Part 1: a forked child starts in its parent's process group, and setpgid(0, 0) makes it the
 *         leader of a new group whose ID is its own PID. The parent's group and session stay put.
 * Part 2: build a two-process "job" the way a shell builds one for a pipeline: a new group led by
 *         the first child, which the second child joins at once. The parent acts on the new group
 *         right after fork, so it must create the group itself instead of trusting the child to
 *         have run first.
 */
#include "checkpoint.h"

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

static void print_ids(const char *who)
{
    printf("%s PID=%d  PGID=%d  SID=%d\n", who, (int)getpid(), (int)getpgrp(), (int)getsid(0));
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

/* Waits for a child and reports how it ended; returns 1 if it exited with status 0. */
static int reap(pid_t child)
{
    int status;

    if (waitpid(child, &status, 0) < 0) {
        perror("waitpid");
        return 0;
    }
    if (WIFEXITED(status)) {
        printf("Reaped: PID=%d  exit status %d\n", (int)child, WEXITSTATUS(status));
        return WEXITSTATUS(status) == 0;
    }
    printf("Reaped: PID=%d  killed by signal %d\n", (int)child, WTERMSIG(status));
    return 0;
}

/* Part 1, in the child: leave the parent's group for a new one. */
static void become_group_leader(void)
{
    checkpoint("child-forked");
    printf("Child: PID=%d  PGID=%d  (before setpgid)\n", (int)getpid(), (int)getpgrp());

    if (setpgid(0, 0) < 0) { /* 0, 0: this process, into a group whose ID is its own PID */
        perror("setpgid");
        end_child(EXIT_FAILURE);
    }
    printf("Child: PID=%d  PGID=%d  (after setpgid)\n", (int)getpid(), (int)getpgrp());
    checkpoint("child-own-group");
    end_child(EXIT_SUCCESS);
}

static int part1_new_group(void)
{
    pid_t child = fork_flushed();

    if (child == 0)
        become_group_leader();
    int ok = reap(child);
    print_ids("Parent after child:");
    checkpoint("parent-unchanged");
    return ok;
}

/* Part 2, in a child: join group `pgid` (0: a new group led by this process), then report. */
static void join_job(pid_t pgid, const char *role, const char *moment)
{
    if (setpgid(0, pgid) < 0) {
        perror("setpgid");
        end_child(EXIT_FAILURE);
    }
    printf("%s PID=%d  PGID=%d\n", role, (int)getpid(), (int)getpgrp());
    checkpoint(moment);
    end_child(EXIT_SUCCESS);
}

/*
 * The parent puts each child in the job's group too. After fork, either process may run first. If
 * only the children called setpgid and the leader had not run yet, the group would not exist when
 * the parent (or the member) needs it, and setpgid(member, leader) would fail with EPERM. Whichever
 * of the two calls comes second does nothing new, so calling it on both sides is always safe.
 */
static int part2_job(void)
{
    pid_t leader = fork_flushed();

    if (leader == 0) {
        checkpoint("leader-forked");
        join_job(0, "Job leader:", "leader-joined");
    }
    if (setpgid(leader, leader) < 0)
        perror("setpgid(leader)");

    pid_t member = fork_flushed();
    if (member == 0)
        join_job(leader, "Job member:", "member-joined");
    if (setpgid(member, leader) < 0)
        perror("setpgid(member)");

    checkpoint("job-ready");
    int ok = reap(leader);
    ok &= reap(member);
    return ok;
}

int main(void)
{
    print_ids("Parent:")
    checkpoint("parent-start");

    int ok = part1_new_group();
    ok &= part2_job();
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
