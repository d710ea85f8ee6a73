/*
 * daemon_classic.c -- STARTER for lab 06. Turn this into a proper classic daemon (README section 2-5).
 *
 * Usage: daemon_classic [-i INTERVAL_MS] PIDFILE LOGFILE
 *
 * The command you type is the "launcher". It starts the daemon and returns only when the daemon
 * says it is ready (exit status 0), or returns 1 with the daemon's own error message if setup
 * failed. The daemon then appends one line per tick to LOGFILE, each with its real PID, until
 * SIGTERM, which makes it remove PIDFILE and exit 0.
 *
 *   launcher ──fork──> first child ──setsid, fork──> daemon
 *      │                    └─ exits at once            │ chdir, umask, close fds, /dev/null,
 *      │                                                │ reset signals, PID file
 *      └──── reads the readiness pipe <── "READY PID=n" ┘
 */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_INTERVAL_MS 1000
#define MAX_PATH 4096

static volatile sig_atomic_t stop_requested;

struct options {
    long interval_ms;
    char pid_file[MAX_PATH];
    char log_file[MAX_PATH];
};

static void usage(void)
{
    fprintf(stderr, "usage: daemon_classic [-i INTERVAL_MS] PIDFILE LOGFILE\n");
    exit(2);
}

/* The daemon will chdir("/"), so a relative path must be made absolute while we still know
 * what it was relative to. */
static void make_absolute(const char *path, char *out, size_t size)
{
    char cwd[MAX_PATH];

    if (path[0] == '/') {
        snprintf(out, size, "%s", path);
        return;
    }
    if (getcwd(cwd, sizeof cwd) == NULL) {
        perror("getcwd");
        exit(1);
    }
    if ((size_t)snprintf(out, size, "%s/%s", cwd, path) >= size) {
        fprintf(stderr, "daemon_classic: path too long: %s\n", path);
        exit(1);
    }
}

static void parse_options(int argc, char **argv, struct options *options)
{
    int opt;

    options->interval_ms = DEFAULT_INTERVAL_MS;
    while ((opt = getopt(argc, argv, "i:")) != -1) {
        if (opt != 'i')
            usage();
        options->interval_ms = strtol(optarg, NULL, 10);
        if (options->interval_ms <= 0)
            usage();
    }
    if (argc - optind != 2)
        usage();
    make_absolute(argv[optind], options->pid_file, sizeof options->pid_file);
    make_absolute(argv[optind + 1], options->log_file, sizeof options->log_file);
}

/* ---- the daemon's side of the readiness pipe ---------------------------------------------- */

/* Setup failed: send the reason up the pipe so the launcher can print it, then give up. */
static void fail_setup(int ready_fd, const char *what)
{
    char message[512];
    int length = snprintf(message, sizeof message, "ERROR %s: %s\n", what, strerror(errno));

    if (write(ready_fd, message, (size_t)length) < 0) {
        /* Nobody to tell; stderr may already be /dev/null. */
    }
    _exit(1);
}

static void tell_launcher_ready(int ready_fd)
{
    (void)ready_fd;
    /* TODO (section 5): write "READY PID=<pid>\n" to ready_fd, then close it. */
}

/* ---- the steps of the recipe, in order ---------------------------------------------------- */

/* Section 2: leave the terminal's session. */
static void start_new_session(int ready_fd)
{
    (void)ready_fd;
    /* TODO: start a new session (setsid(2)); on failure call fail_setup(ready_fd, "setsid"). */
    checkpoint("after-setsid");
    /* TODO: ignore SIGHUP, and say in a comment why. */
}

/* Section 2: the second fork. */
static void fork_away_from_session_leader(int ready_fd)
{
    (void)ready_fd;
    /* TODO: fork again; the parent (the session leader) exits with _exit(0), the child goes on. */
}

/* Section 3: working directory and umask. */
static void leave_cwd_and_umask(int ready_fd)
{
    (void)ready_fd;
    /* TODO: chdir("/") (error: fail_setup) and umask(0). */
}

/* Section 3: close every descriptor the daemon inherited, except stdio and ready_fd. */
static void close_inherited_fds(int ready_fd)
{
    (void)ready_fd;
    /* TODO: find the open descriptors (/proc/self/fd lists them) and close all above 2 but ready_fd. */
}

/* Section 3: stdin, stdout and stderr on /dev/null. */
static void stdio_to_dev_null(int ready_fd)
{
    (void)ready_fd;
    /* TODO: open /dev/null and dup2(2) it onto 0, 1 and 2. */
}

/* Section 4: reset signal dispositions and the signal mask. */
static void reset_signals(int ready_fd)
{
    (void)ready_fd;
    /* TODO: every signal but SIGHUP, SIGKILL and SIGSTOP back to SIG_DFL; empty signal mask. */
}

static void on_sigterm(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_sigterm_handler(int ready_fd)
{
    struct sigaction action;

    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigterm;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) < 0)
        fail_setup(ready_fd, "sigaction SIGTERM");
}

/* Written by the daemon itself, after the last fork: only now is getpid() the PID that stays. */
static void write_pid_file(int ready_fd, const char *path)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        fail_setup(ready_fd, "open PID file");
    if (write(fd, text, (size_t)length) != length)
        fail_setup(ready_fd, "write PID file");
    if (close(fd) < 0)
        fail_setup(ready_fd, "close PID file");
}

static int open_log(int ready_fd, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    if (fd < 0)
        fail_setup(ready_fd, "open log file");
    return fd;
}

/* ---- running ------------------------------------------------------------------------------ */

static void log_line(int log_fd, const char *text)
{
    size_t length = strlen(text);

    if (write(log_fd, text, length) != (ssize_t)length) {
        /* stderr is /dev/null: there is nowhere to complain. Keep running. */
    }
}

static void sleep_ms(long ms)
{
    struct timespec interval = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    /* SIGTERM interrupts the sleep (EINTR) and the loop sees stop_requested at once. If it comes
     * just before the sleep starts, the daemon notices one interval later: fine for a daemon. */
    nanosleep(&interval, NULL);
}

static int run_daemon(const struct options *options, int log_fd)
{
    char line[MAX_PATH + 128];

    snprintf(line, sizeof line, "daemon_classic: started PID=%ld PPID=%ld PGID=%ld SID=%ld\n",
             (long)getpid(), (long)getppid(), (long)getpgrp(), (long)getsid(0));
    log_line(log_fd, line);
    for (long tick = 1; !stop_requested; tick++) {
        snprintf(line, sizeof line, "tick=%ld PID=%ld\n", tick, (long)getpid());
        log_line(log_fd, line);
        sleep_ms(options->interval_ms);
    }
    if (unlink(options->pid_file) < 0)
        snprintf(line, sizeof line, "daemon_classic: unlink %s: %s\n", options->pid_file,
                 strerror(errno));
    else
        snprintf(line, sizeof line, "daemon_classic: SIGTERM, removed %s, exiting PID=%ld\n",
                 options->pid_file, (long)getpid());
    log_line(log_fd, line);
    return 0;
}

/* Everything after the first fork, in the first child and then in the daemon. */
static void become_daemon(const struct options *options, int ready_fd)
{
    int log_fd;

    start_new_session(ready_fd);
    fork_away_from_session_leader(ready_fd);
    leave_cwd_and_umask(ready_fd);
    close_inherited_fds(ready_fd);
    stdio_to_dev_null(ready_fd);
    reset_signals(ready_fd);
    install_sigterm_handler(ready_fd);
    log_fd = open_log(ready_fd, options->log_file);
    write_pid_file(ready_fd, options->pid_file);
    checkpoint("daemon-ready");
    tell_launcher_ready(ready_fd);
    exit(run_daemon(options, log_fd));
}

/* ---- the launcher's side ------------------------------------------------------------------ */

/* Section 5: block until the daemon says "READY PID=n" (return 0) or "ERROR ..." / dies (return 1). */
static int wait_until_ready(int read_fd, pid_t first_child)
{
    /* TODO: read the daemon's line from read_fd; on "READY " print "Launcher: daemon ready, PID=n",
     * on "ERROR " print the daemon's message to stderr; on end-of-file say the daemon died.
     * Then reap first_child. For now the launcher does not wait at all: */
    close(read_fd);
    printf("Launcher: daemon started, PID=%ld\n", (long)first_child);
    return 0;
}

int main(int argc, char **argv)
{
    struct options options;
    int ready_pipe[2];
    pid_t pid;
    int status;

    parse_options(argc, argv, &options);
    /* Made before the first fork, so the daemon (a grandchild) still holds the write end. */
    if (pipe(ready_pipe) < 0) {
        perror("pipe");
        return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(ready_pipe[0]);
        become_daemon(&options, ready_pipe[1]);
    }
    /* Close our write end, or read() would never see end-of-file if the daemon died. */
    close(ready_pipe[1]);
    status = wait_until_ready(ready_pipe[0], pid);
    fflush(stdout);
    checkpoint("launcher-exit");
    return status;
}
