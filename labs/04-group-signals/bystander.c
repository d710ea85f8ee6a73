/*
 * bystander.c -- lab 04, provided complete: the grader's witness for task 5. Do not change it.
 *
 * Usage: bystander PGID_FILE      start it in the background: ./bystander FILE &
 *
 * A process that kill_group's parent knows nothing about. It reads a process-group ID from
 * PGID_FILE, joins that group with setpgid(0, pgid), and waits for a signal. Any process may move
 * itself into an existing group of its own session this way (unless it leads the session), so a
 * group can have members its creator never forked. A signal sent to the group, kill(-pgid, sig),
 * reaches this process too; a kill() on each PID the sender knows does not.
 *
 * Under the grader it waits at the checkpoint "bystander-ready" while the grader writes the group's
 * PGID into the file, and reaches "bystander-joined" once it is in the group.
 */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* The PGID written in `path`, or -1 after saying why there is none. */
static pid_t read_pgid(const char *path)
{
    FILE *file = fopen(path, "r");
    int pgid;

    if (file == NULL) {
        perror(path);
        return -1;
    }
    if (fscanf(file, "%d", &pgid) != 1 || pgid <= 0) {
        fprintf(stderr, "bystander: %s holds no process-group ID\n", path);
        pgid = -1;
    }
    fclose(file);
    return pgid;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bystander PGID_FILE\n");
        return 2;
    }
    checkpoint("bystander-ready");
    pid_t pgid = read_pgid(argv[1]);
    if (pgid < 0)
        return EXIT_FAILURE;
    if (setpgid(0, pgid) < 0) { /* EPERM: no group `pgid` in this session */
        perror("setpgid");
        return EXIT_FAILURE;
    }
    checkpoint("bystander-joined");
    for (;;)
        pause(); /* the default action of the group's signal ends us */
}
