/*
 * daemon_classic.c -- the traditional SysV daemon recipe (systemd's daemon(7)), done in full.
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
    char message[64];
    int length = snprintf(message, sizeof message, "READY PID=%ld\n", (long)getpid());

    if (write(ready_fd, message, (size_t)length) != length)
        fail_setup(ready_fd, "write readiness pipe");
    close(ready_fd);
}

/* ---- the steps of the recipe, in order ---------------------------------------------------- */

/* A new session has no controlling terminal, so the daemon can never get one by accident from
 * the terminal it was started on. setsid() fails for a group leader; we are the first child,
 * never a group leader, because the shell made the launcher the leader of its job's group. */
static void start_new_session(int ready_fd)
{
    if (setsid() < 0)
        fail_setup(ready_fd, "setsid");
    checkpoint("after-setsid");
    /* A defence, not a reaction to the recipe: this session has no terminal to hang up, and the
     * exit of its leader (this process, after the next fork) sends the daemon nothing. But SIGHUP
     * kills by default, and a stray one (kill -HUP by hand, an old init script's "reload") must
     * not end the daemon. Daemons that can re-read a configuration handle SIGHUP; we have nothing
     * to reload, so we ignore it. */
    if (signal(SIGHUP, SIG_IGN) == SIG_ERR)
        fail_setup(ready_fd, "signal SIGHUP");
}

/* The second fork: the daemon is not the session leader, so opening a terminal later can never
 * make it the daemon's controlling terminal. The first child exits and the daemon is
 * re-parented to PID 1 or to the nearest subreaper. */
static void fork_away_from_session_leader(int ready_fd)
{
    pid_t pid = fork();

    if (pid < 0)
        fail_setup(ready_fd, "fork (second)");
    if (pid > 0)
        _exit(0);
}

/* Keep no directory busy (a mounted file system could not be unmounted), and let the daemon
 * decide every file mode itself instead of inheriting the user's umask. */
static void leave_cwd_and_umask(int ready_fd)
{
    if (chdir("/") < 0)
        fail_setup(ready_fd, "chdir /");
    umask(0);
}

/* Whatever the launching shell had open (a redirection like 7>file, a descriptor some library
 * forgot to mark close-on-exec) must not stay open for the daemon's whole life. /proc/self/fd
 * lists exactly the open descriptors; we keep stdio (redirected next) and the readiness pipe. */
static void close_inherited_fds(int ready_fd)
{
    int to_close[1024];
    int count = 0;
    struct dirent *entry;
    DIR *dir = opendir("/proc/self/fd");

    if (dir == NULL)
        fail_setup(ready_fd, "opendir /proc/self/fd");
    while ((entry = readdir(dir)) != NULL && count < (int)(sizeof to_close / sizeof *to_close)) {
        int fd = atoi(entry->d_name); /* "." and ".." give 0, which we keep anyway */

        if (fd > 2 && fd != ready_fd && fd != dirfd(dir))
            to_close[count++] = fd;
    }
    /* Close after closedir: closing while reading the directory would change what it lists. */
    closedir(dir);
    for (int i = 0; i < count; i++)
        close(to_close[i]);
}

/* stdin, stdout, stderr go to /dev/null: the terminal may be gone any moment, and a library
 * that prints to stdout must not write into a file that happens to get descriptor 1. */
static void stdio_to_dev_null(int ready_fd)
{
    int fd = open("/dev/null", O_RDWR);

    if (fd < 0)
        fail_setup(ready_fd, "open /dev/null");
    for (int target = 0; target <= 2; target++) {
        if (fd != target && dup2(fd, target) < 0)
            fail_setup(ready_fd, "dup2 /dev/null");
    }
    if (fd > 2)
        close(fd);
}

/* Handlers set by the launcher are already gone after exec, but an ignored signal or a blocked
 * mask is inherited through fork and exec. Start clean, except for SIGHUP, ignored above. */
static void reset_signals(int ready_fd)
{
    sigset_t empty;

    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGHUP && sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL); /* fails harmlessly for the numbers glibc reserves */
    }
    sigemptyset(&empty);
    if (sigprocmask(SIG_SETMASK, &empty, NULL) < 0)
        fail_setup(ready_fd, "sigprocmask");
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

/* Blocks until the daemon writes its one line (or every write end is closed: it died). */
static int wait_until_ready(int read_fd, pid_t first_child)
{
    char message[512];
    size_t used = 0;
    ssize_t got;

    while (used < sizeof message - 1) {
        got = read(read_fd, message + used, sizeof message - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            perror("read readiness pipe");
            return 1;
        }
        if (got == 0)
            break;
        used += (size_t)got;
        if (message[used - 1] == '\n')
            break;
    }
    message[used] = '\0';
    close(read_fd);
    /* Reap the first child, which exited right after the second fork. */
    if (waitpid(first_child, NULL, 0) < 0)
        perror("waitpid");

    if (strncmp(message, "READY ", 6) == 0) {
        printf("Launcher: daemon ready, %s", message + 6);
        return 0;
    }
    if (strncmp(message, "ERROR ", 6) == 0)
        fprintf(stderr, "daemon_classic: setup failed: %s", message + 6);
    else
        fprintf(stderr, "daemon_classic: the daemon died before it was ready\n");
    return 1;
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
