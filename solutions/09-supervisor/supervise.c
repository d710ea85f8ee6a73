/*
 * supervise.c -- run a service as a process tree you can always stop completely.
 *
 * Usage: supervise start [-g GRACE_MS] PIDFILE -- CMD [ARGS...]
 *        supervise stop PIDFILE
 *
 * start: takes PIDFILE (written atomically, locked with fcntl(2) for as long as the supervisor
 *        lives), starts CMD in a process group of its own, and stays its parent. It is a child
 *        subreaper, so every orphaned descendant of the service becomes its child, even one that
 *        left the group with setsid(). On SIGTERM (or SIGINT, SIGHUP) it stops the service:
 *        SIGTERM to the group and to every descendant outside it, up to GRACE_MS (default 2000)
 *        for them to exit, then SIGKILL to whatever is left. It reports each step on stdout.
 * stop:  finds the supervisor through the lock on PIDFILE, sends it SIGTERM, and waits until
 *        it has finished (its lock goes away when it exits).
 */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_GRACE_MS 2000
#define POLL_MS 10
#define MAX_PROCS 4096
#define MAX_TAKE_ATTEMPTS 100 /* other starts replacing PIDFILE under us, one after the other */

struct proc {
    pid_t pid, ppid, pgid, sid;
    char state;
};

static void usage(void)
{
    fprintf(stderr, "usage: supervise start [-g GRACE_MS] PIDFILE -- CMD [ARGS...]\n"
                    "       supervise stop PIDFILE\n");
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "supervise: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

/* ---- locks ---------------------------------------------------------------------------------- */

/* A POSIX record lock (fcntl F_SETLK) on the whole file. We use fcntl rather than flock(2)
 * because the kernel records the owner's PID with it: /proc/locks shows it and F_GETLK returns
 * it, so "who runs this service?" is answered by the kernel, not by the file's contents. Its
 * famous trap: closing ANY descriptor of the file drops the process's lock, so the supervisor
 * never opens PIDFILE again after taking it. Locks are not inherited by fork(). */
static int try_lock(int fd, short type)
{
    struct flock lock = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

    return fcntl(fd, F_SETLK, &lock);
}

/* Returns the PID holding a lock that conflicts with a write lock on fd, or 0 if none. */
static pid_t lock_holder(int fd)
{
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

    if (fcntl(fd, F_GETLK, &lock) < 0)
        die("fcntl F_GETLK");
    return lock.l_type == F_UNLCK ? 0 : lock.l_pid;
}

/* ---- the PID file --------------------------------------------------------------------------- */

static void read_contents(int fd, char *text, size_t size)
{
    ssize_t got = pread(fd, text, size - 1, 0);

    text[got > 0 ? got : 0] = '\0';
    text[strcspn(text, "\n")] = '\0';
}

/* Writes our PID to a new temporary file and locks it, so that the file is complete and locked
 * before anyone can see it under the real name. */
static int prepare_temp_pid_file(const char *temp_path)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    int fd = open(temp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

    if (fd < 0)
        die("open temporary PID file");
    if (try_lock(fd, F_WRLCK) < 0)
        die("fcntl F_SETLK temporary PID file");
    if (write(fd, text, (size_t)length) != length)
        die("write temporary PID file");
    return fd;
}

/* Is fd still the file that path names? (Someone may have replaced it since we opened it.) */
static int is_current_file(int fd, const char *path)
{
    struct stat by_fd, by_path;

    if (fstat(fd, &by_fd) < 0)
        die("fstat PID file");
    if (stat(path, &by_path) < 0)
        return 0;
    return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

/* Gives up on the PID file: removes our temporary file and says why. */
static void give_up_pid_file(const char *temp_path, const char *what)
{
    int saved = errno;

    unlink(temp_path);
    errno = saved;
    die(what);
}

/* Publishes our locked temporary file as PIDFILE, or exits if a live supervisor holds it.
 * Whoever holds the lock on the file that PIDFILE names is the owner. A PIDFILE nobody has
 * locked is stale, whatever PID it contains: that PID may long since belong to another process.
 * Returns the locked descriptor, which must stay open for the supervisor's whole life. */
static int take_pid_file(const char *path)
{
    char temp_path[4096 + 32];
    char old_text[64];
    int fd;

    snprintf(temp_path, sizeof temp_path, "%s.tmp.%ld", path, (long)getpid());
    fd = prepare_temp_pid_file(temp_path);
    checkpoint("pidfile-ready-to-publish");

    /* Each round loses only to another start that changed PIDFILE meanwhile, so a bounded number
     * of rounds is plenty; the bound turns anything else into an error instead of a busy loop. */
    for (int attempt = 0;; attempt++) {
        int old;

        if (attempt == MAX_TAKE_ATTEMPTS) {
            fprintf(stderr, "supervise: %s keeps changing under us; giving up\n", path);
            unlink(temp_path);
            exit(1);
        }
        /* O_NOFOLLOW: a symbolic link is refused (ELOOP), never followed to some other file. A
         * dangling one would otherwise look absent to open() and present to link(), forever. */
        old = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (old < 0 && errno == ENOENT) {
            /* No PID file: link() fails with EEXIST if another start got there first. */
            if (link(temp_path, path) == 0)
                break;
            if (errno != EEXIST)
                give_up_pid_file(temp_path, "link PID file");
            continue;
        }
        if (old < 0)
            give_up_pid_file(temp_path, "open PID file");
        if (try_lock(old, F_WRLCK) < 0) {
            if (errno != EAGAIN && errno != EACCES)
                give_up_pid_file(temp_path, "fcntl F_SETLK PID file");
            fprintf(stderr, "supervise: already running: supervisor PID=%ld holds the lock on %s\n",
                    (long)lock_holder(old), path);
            unlink(temp_path);
            exit(1);
        }
        /* We locked it; but if it was replaced between open() and the lock, we locked a file
         * nobody can see any more. Try again with whatever the name points to now. */
        if (!is_current_file(old, path)) {
            close(old);
            continue;
        }
        read_contents(old, old_text, sizeof old_text);
        printf("supervise: %s is stale (it names PID=%s, but no supervisor holds its lock); "
               "replacing it\n", path, old_text);
        /* rename() replaces the name in one step: readers see the old file or ours, never a
         * half-written one. We still hold the old file's lock, so no other start can slip in. */
        if (rename(temp_path, path) < 0)
            give_up_pid_file(temp_path, "rename PID file");
        close(old); /* drops only the lock on the old file; ours is a different file */
        return fd;
    }
    unlink(temp_path);
    return fd;
}

/* ---- looking at the process tree in /proc --------------------------------------------------- */

static int read_proc(pid_t pid, struct proc *proc)
{
    char path[64], text[1024];
    const char *fields;
    ssize_t got;
    int fd;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    got = read(fd, text, sizeof text - 1);
    close(fd);
    if (got <= 0)
        return -1;
    text[got] = '\0';
    fields = strrchr(text, ')'); /* the command name may contain ')' itself */
    if (fields == NULL)
        return -1;
    proc->pid = pid;
    if (sscanf(fields + 2, "%c %d %d %d", &proc->state, &proc->ppid, &proc->pgid, &proc->sid) != 4)
        return -1;
    return 0;
}

/* Reads every process in /proc, however many there are (a descendant may have any PID, so a
 * scan that stopped early could miss it). Returns a malloc'ed array; *count says how long. */
static struct proc *read_all_procs(int *count)
{
    size_t capacity = 1024, total = 0;
    struct proc *all = malloc(capacity * sizeof *all);
    struct dirent *entry;
    DIR *dir = opendir("/proc");

    if (all == NULL)
        die("malloc");
    if (dir == NULL)
        die("opendir /proc");
    for (errno = 0; (entry = readdir(dir)) != NULL; errno = 0) {
        pid_t pid = (pid_t)atoi(entry->d_name);

        if (pid <= 0)
            continue; /* not a process: "self", "meminfo", ... */
        if (total == capacity) {
            struct proc *bigger = realloc(all, 2 * capacity * sizeof *all);

            if (bigger == NULL)
                die("realloc");
            all = bigger;
            capacity *= 2;
        }
        if (read_proc(pid, &all[total]) == 0) /* fails if it exited meanwhile: skip it */
            total++;
    }
    if (errno != 0)
        die("readdir /proc");
    closedir(dir);
    *count = (int)total;
    return all;
}

/* Fills out[] with up to max living (not zombie) descendants of this process; returns how many.
 * A zombie is already dead and has no children (they were re-parented when it died). */
static int list_descendants(struct proc *out, int max)
{
    int total, found = 0;
    struct proc *all = read_all_procs(&total);

    /* Breadth first from ourselves: out[] doubles as the queue of parents to expand. */
    for (int parent = -1; parent < found; parent++) {
        pid_t parent_pid = parent < 0 ? getpid() : out[parent].pid;

        for (int i = 0; i < total && found < max; i++) {
            if (all[i].ppid == parent_pid && all[i].state != 'Z')
                out[found++] = all[i];
        }
    }
    free(all);
    return found;
}

/* ---- supervising ---------------------------------------------------------------------------- */

struct service {
    pid_t pid;   /* the process we started; also the group's ID */
    long grace_ms;
    int exited;  /* the main process has been reaped */
    int status;
};

static sigset_t supervisor_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

/* Reaps every child that has exited: the service itself, and descendants we adopted as a
 * subreaper. Returns 1 when we have no children left at all: then, because orphans come to us,
 * no descendant is left anywhere. */
static int reap_children(struct service *service)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);

        if (pid < 0 && errno == ECHILD)
            return 1;
        if (pid < 0)
            die("waitpid");
        if (pid == 0)
            return 0;
        if (pid == service->pid) {
            service->exited = 1;
            service->status = status;
        }
    }
}

/* Waits until a child changes state or ms milliseconds pass. Other signals stay pending. */
static void wait_a_little(long ms)
{
    sigset_t chld;
    struct timespec timeout = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigtimedwait(&chld, NULL, &timeout);
}

/* Sends SIGTERM to every descendant outside the service's group (killpg cannot reach them)
 * that has not had it yet. Returns how many got it now. */
static int terminate_escapees(const struct service *service, pid_t *done, int *done_count)
{
    static struct proc procs[MAX_PROCS];
    int count = list_descendants(procs, MAX_PROCS);
    int sent = 0;

    for (int i = 0; i < count; i++) {
        int already = 0;

        if (procs[i].pgid == service->pid)
            continue;
        for (int j = 0; j < *done_count; j++)
            already |= done[j] == procs[i].pid;
        if (already || kill(procs[i].pid, SIGTERM) < 0)
            continue;
        kill(procs[i].pid, SIGCONT); /* a stopped process acts on SIGTERM only once continued */
        printf("supervise: SIGTERM -> escapee PID=%ld (PGID=%ld SID=%ld)\n", (long)procs[i].pid,
               (long)procs[i].pgid, (long)procs[i].sid);
        if (*done_count < MAX_PROCS)
            done[(*done_count)++] = procs[i].pid;
        sent++;
    }
    return sent;
}

static void stop_service(struct service *service)
{
    static pid_t term_sent[MAX_PROCS], kill_sent[MAX_PROCS];
    static struct proc procs[MAX_PROCS];
    int term_count = 0, kill_count = 0;
    long deadline = now_ms() + service->grace_ms;

    printf("supervise: stopping service PGID=%ld\n", (long)service->pid);
    if (killpg(service->pid, SIGTERM) == 0) {
        killpg(service->pid, SIGCONT); /* stopped members must wake up to see SIGTERM */
        printf("supervise: SIGTERM -> group PGID=%ld\n", (long)service->pid);
    }
    /* Grace period: keep reaping, and keep looking for escapees (new ones may appear). */
    while (!reap_children(service) && now_ms() < deadline) {
        terminate_escapees(service, term_sent, &term_count);
        wait_a_little(POLL_MS);
    }
    if (reap_children(service)) {
        printf("supervise: all service processes exited after SIGTERM\n");
        return;
    }
    printf("supervise: grace period of %ld ms over\n", service->grace_ms);
    /* SIGKILL cannot be caught or ignored. Loop until nothing is left: a process we missed in
     * one /proc scan (its parent died while we read) shows up in the next one. */
    while (!reap_children(service)) {
        int count = list_descendants(procs, MAX_PROCS);

        for (int i = 0; i < count; i++) {
            int already = 0;

            for (int j = 0; j < kill_count; j++)
                already |= kill_sent[j] == procs[i].pid;
            if (already || kill(procs[i].pid, SIGKILL) < 0)
                continue;
            printf("supervise: SIGKILL -> PID=%ld (PGID=%ld)\n", (long)procs[i].pid, (long)procs[i].pgid);
            if (kill_count < MAX_PROCS)
                kill_sent[kill_count++] = procs[i].pid;
        }
        wait_a_little(POLL_MS);
    }
    printf("supervise: all service processes gone; %d needed SIGKILL\n", kill_count);
}

/* The child: its own process group, the signal mask it had before we blocked ours, then exec. */
static void exec_service(char **argv, const sigset_t *original_mask)
{
    checkpoint("service-forked");
    /* The parent calls setpgid() for us too; whichever runs first wins, the other is a no-op.
     * We need it here so the group exists before exec; the parent needs it so the group exists
     * before it might signal it. */
    if (setpgid(0, 0) < 0)
        die("setpgid (child)");
    if (sigprocmask(SIG_SETMASK, original_mask, NULL) < 0)
        die("sigprocmask (child)");
    execvp(argv[0], argv);
    fprintf(stderr, "supervise: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static pid_t start_service(char **argv, const sigset_t *original_mask)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        exec_service(argv, original_mask);
    /* EACCES: the child has already exec'd, so it has already made its group itself. */
    if (setpgid(pid, pid) < 0 && errno != EACCES)
        die("setpgid (parent)");
    return pid;
}

static void report_exit(const struct service *service)
{
    if (WIFEXITED(service->status))
        printf("supervise: service PID=%ld exited with status %d\n", (long)service->pid,
               WEXITSTATUS(service->status));
    else if (WIFSIGNALED(service->status))
        printf("supervise: service PID=%ld was killed by signal %d (%s)\n", (long)service->pid,
               WTERMSIG(service->status), strsignal(WTERMSIG(service->status)));
}

static int run_start(long grace_ms, const char *pid_path, char **argv)
{
    struct service service = { .grace_ms = grace_ms };
    sigset_t signals = supervisor_signals(), original_mask;
    int stop_requested = 0;

    /* Orphaned descendants (an escapee whose parent died, a double-forked helper) are
     * re-parented to us instead of PID 1, so we can still find, signal and reap them. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        die("prctl PR_SET_CHILD_SUBREAPER");
    /* Blocked before fork, taken with sigwaitinfo(): none can be lost in between. */
    if (sigprocmask(SIG_BLOCK, &signals, &original_mask) < 0)
        die("sigprocmask");
    setvbuf(stdout, NULL, _IOLBF, 0);

    int pid_fd = take_pid_file(pid_path);
    service.pid = start_service(argv, &original_mask);
    printf("supervise: started service PID=%ld in its own group PGID=%ld (supervisor PID=%ld)\n",
           (long)service.pid, (long)service.pid, (long)getpid());
    checkpoint("supervisor-started");

    while (!stop_requested && !service.exited) {
        siginfo_t info;
        int sig = sigwaitinfo(&signals, &info);

        if (sig < 0 && errno == EINTR)
            continue;
        if (sig < 0)
            die("sigwaitinfo");
        if (sig == SIGCHLD)
            reap_children(&service);
        else {
            printf("supervise: %s received: stop requested\n",
                   sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP");
            stop_requested = 1;
        }
    }
    if (service.exited)
        report_exit(&service);
    stop_service(&service);
    /* Remove the name while we still hold the lock; exiting then releases the lock. */
    if (unlink(pid_path) < 0)
        perror("supervise: unlink PID file");
    close(pid_fd);
    if (!stop_requested && service.exited)
        return WIFEXITED(service.status) ? WEXITSTATUS(service.status) : 1;
    return 0;
}

/* ---- stop ----------------------------------------------------------------------------------- */

/* Waits until the supervisor has exited: a read lock on the PID file is granted only once its
 * write lock is gone. One catch: a start that replaced a stale file held the lock on the OLD
 * file only until its rename(); if that was the file we opened, our lock comes through while the
 * supervisor runs on, locking the new file. So wait again on whatever the name leads to now, for
 * as long as the same supervisor holds it. A supervisor removes the name before it exits. */
static void wait_for_supervisor(int fd, const char *pid_path, pid_t supervisor)
{
    struct flock wait_lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

    for (;;) {
        while (fcntl(fd, F_SETLKW, &wait_lock) < 0) {
            if (errno != EINTR)
                die("fcntl F_SETLKW");
        }
        close(fd);
        fd = open(pid_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            return;
        if (fd < 0)
            die("open PID file");
        if (lock_holder(fd) != supervisor) {
            close(fd);
            return;
        }
    }
}

static int run_stop(const char *pid_path)
{
    char text[64];
    pid_t supervisor;
    int fd = open(pid_path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT) {
        fprintf(stderr, "supervise stop: %s does not exist: not running\n", pid_path);
        return 1;
    }
    if (fd < 0)
        die("open PID file");
    /* The PID written in the file is only a claim. The lock is the proof. */
    supervisor = lock_holder(fd);
    if (supervisor == 0) {
        read_contents(fd, text, sizeof text);
        fprintf(stderr, "supervise stop: %s is stale (it names PID=%s, but no supervisor holds "
                        "its lock): not running, nothing signalled\n", pid_path, text);
        return 1;
    }
    printf("supervise stop: sending SIGTERM to supervisor PID=%ld\n", (long)supervisor);
    fflush(stdout);
    if (kill(supervisor, SIGTERM) < 0)
        die("kill supervisor");
    wait_for_supervisor(fd, pid_path, supervisor);
    printf("supervise stop: supervisor PID=%ld has stopped the service and exited\n", (long)supervisor);
    return 0;
}

int main(int argc, char **argv)
{
    long grace_ms = DEFAULT_GRACE_MS;
    int opt;

    if (argc < 3)
        usage();
    if (strcmp(argv[1], "stop") == 0) {
        if (argc != 3)
            usage();
        return run_stop(argv[2]);
    }
    if (strcmp(argv[1], "start") != 0)
        usage();
    /* getopt from argv[1] on, so "start" is its argv[0]. "+": stop at the first non-option
     * (PIDFILE) instead of GNU getopt's habit of looking further, into the command. */
    while ((opt = getopt(argc - 1, argv + 1, "+g:")) != -1) {
        if (opt != 'g')
            usage();
        grace_ms = strtol(optarg, NULL, 10);
        if (grace_ms < 0)
            usage();
    }
    optind++; /* index into argv, not argv + 1 */
    if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0)
        usage();
    return run_start(grace_ms, argv[optind], argv + optind + 2);
}
