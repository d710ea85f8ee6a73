/*
 * tty_io.c -- use the terminal from wherever we are, and see what the kernel does about it.
 *
 * Usage: tty_io read|write [--ignore]
 *
 *   read       print where we are, then read one line from the terminal (stdin)
 *   write      write one line to the terminal (stdout); that line says where we are
 *   --ignore   first ignore the signal the kernel would stop us with:
 *              SIGTTIN for read, SIGTTOU for write
 *
 * The "where we are" line:
 *
 *   tty_io: PID=5012  PGID=5012  Foreground PGID=4900  background=yes
 *
 * then, for read, one of:
 *
 *   tty_io: read 6 bytes: hello
 *   tty_io: read failed: Input/output error
 *
 * Try: "tty_io read &" (stopped by SIGTTIN), "stty tostop; tty_io write &" (stopped by SIGTTOU),
 * "stty -tostop; tty_io write &" (the line goes through), "tty_io read --ignore &" (EIO).
 *
 * Checkpoint: "before-io", after the signal disposition is set, just before touching the terminal.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"

static void usage(void)
{
    fprintf(stderr, "usage: tty_io read|write [--ignore]\n");
    exit(2);
}

/* Sets the disposition of signal_number to SIG_IGN; exits on failure. */
static void ignore_signal(int signal_number)
{
    struct sigaction action;

    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    if (sigaction(signal_number, &action, NULL) < 0) {
        perror("sigaction");
        exit(EXIT_FAILURE);
    }
}

/* Formats the "where we are" line, asking the terminal on fd for its foreground group. */
static void describe_position(int fd, char *line, size_t size)
{
    pid_t group = getpgrp();
    pid_t foreground = tcgetpgrp(fd);

    if (foreground < 0) {
        perror("tcgetpgrp");
        exit(EXIT_FAILURE);
    }
    /* In the background means: our group is not the one the terminal serves. */
    snprintf(line, size, "tty_io: PID=%ld  PGID=%ld  Foreground PGID=%ld  background=%s\n",
             (long)getpid(), (long)group, (long)foreground, group != foreground ? "yes" : "no");
}

static int read_one_line(void)
{
    char position[160];
    char input[256];
    ssize_t got;

    describe_position(STDIN_FILENO, position, sizeof position);
    checkpoint("before-io");
    fputs(position, stdout);
    fflush(stdout);

    /* From a background group this read is where the kernel sends SIGTTIN (or fails with EIO). */
    got = read(STDIN_FILENO, input, sizeof input - 1);
    if (got < 0) {
        printf("tty_io: read failed: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    input[got] = '\0';
    input[strcspn(input, "\n")] = '\0';
    printf("tty_io: read %ld bytes: %s\n", (long)got, input);
    return EXIT_SUCCESS;
}

static int write_one_line(void)
{
    char position[160];
    size_t length;

    describe_position(STDOUT_FILENO, position, sizeof position);
    checkpoint("before-io");

    /* write(2), not stdio: this one call is the write the kernel may stop with SIGTTOU. */
    length = strlen(position);
    if (write(STDOUT_FILENO, position, length) != (ssize_t)length) {
        perror("write");
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

int main(int argc, char *argv[])
{
    bool reading;
    bool ignore = false;

    if (argc < 2 || argc > 3)
        usage();
    if (strcmp(argv[1], "read") == 0)
        reading = true;
    else if (strcmp(argv[1], "write") == 0)
        reading = false;
    else
        usage();
    if (argc == 3) {
        if (strcmp(argv[2], "--ignore") != 0)
            usage();
        ignore = true;
    }

    if (ignore)
        ignore_signal(reading ? SIGTTIN : SIGTTOU);
    return reading ? read_one_line() : write_one_line();
}
