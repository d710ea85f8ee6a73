/*
 * myservice.c -- a service written for a service manager (systemd, or the grader acting as one).
 *
 * Usage: myservice [-i INTERVAL_MS] [-c CONFIG]
 *
 * It does none of the classic daemon steps: it stays in the foreground, writes its log to stdout,
 * never forks, never calls setsid(), never opens a terminal. The manager captures stdout, starts
 * it in a clean environment and stops it with SIGTERM. What it adds is the sd_notify protocol:
 * one datagram per state change to the Unix socket named in $NOTIFY_SOCKET.
 *
 *   READY=1                       once it is set up (signals ready, configuration read)
 *   RELOADING=1, MONOTONIC_USEC=  when SIGHUP makes it re-read CONFIG; READY=1 when done
 *   STOPPING=1                    when SIGTERM makes it shut down (it then exits 0)
 */
#include "checkpoint.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_CONFIG "myservice.conf"

struct options {
    long interval_ms;
    const char *config_path;
};

/* The configuration is a few "key=value" lines; we keep them as one printable string. */
struct config {
    char text[1024];
};

static void usage(void)
{
    fprintf(stderr, "usage: myservice [-i INTERVAL_MS] [-c CONFIG]\n");
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *options)
{
    int opt;

    options->interval_ms = DEFAULT_INTERVAL_MS;
    options->config_path = DEFAULT_CONFIG;
    while ((opt = getopt(argc, argv, "i:c:")) != -1) {
        if (opt == 'i')
            options->interval_ms = strtol(optarg, NULL, 10);
        else if (opt == 'c')
            options->config_path = optarg;
        else
            usage();
    }
    if (optind != argc || options->interval_ms <= 0)
        usage();
}

/* ---- sd_notify, by hand ------------------------------------------------------------------- */

/* Sends one datagram to $NOTIFY_SOCKET. Not under a manager (variable unset): nothing to do.
 * A name starting with '@' is an abstract socket: the address is a NUL byte followed by the
 * rest of the name, and its length counts exactly those bytes, no terminating NUL. */
static int notify(const char *message)
{
    const char *name = getenv("NOTIFY_SOCKET");
    struct sockaddr_un address;
    socklen_t length;
    size_t name_length;
    int fd;

    if (name == NULL || name[0] == '\0')
        return 0;
    name_length = strlen(name);
    if (name_length >= sizeof address.sun_path) {
        fprintf(stderr, "myservice: NOTIFY_SOCKET too long\n");
        return -1;
    }
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, name, name_length);
    length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + name_length);
    if (name[0] == '@')
        address.sun_path[0] = '\0';
    else
        length += 1; /* a path name is sent with its terminating NUL */

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        return -1;
    }
    /* The manager learns our PID from the kernel (SCM_CREDENTIALS), not from the message, and
     * by default accepts messages only from the main PID: so this process must send, not a child. */
    if (sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&address, length) < 0) {
        perror("sendto NOTIFY_SOCKET");
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static void notify_ready(void)
{
    notify("READY=1");
    checkpoint("sent-ready");
}

static void notify_reloading(void)
{
    struct timespec now;
    char message[64];

    /* systemd wants the time the reload started, so it can tell this reload from older ones. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    snprintf(message, sizeof message, "RELOADING=1\nMONOTONIC_USEC=%lld",
             (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000);
    notify(message);
}

/* ---- configuration ------------------------------------------------------------------------ */

/* Reads CONFIG into config->text as "key=value key=value". Returns -1 (and says why) on error;
 * config is then left as it was, so a bad reload keeps the old configuration. */
static int read_config(const char *path, struct config *config)
{
    struct config fresh = { .text = "" };
    char line[256];
    size_t used = 0;
    FILE *file = fopen(path, "r");

    if (file == NULL) {
        fprintf(stderr, "myservice: cannot read config %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, file) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        used += (size_t)snprintf(fresh.text + used, sizeof fresh.text - used, "%s%s",
                                 used > 0 ? " " : "", line);
        if (used >= sizeof fresh.text)
            break;
    }
    fclose(file);
    *config = fresh;
    return 0;
}

/* ---- signals ------------------------------------------------------------------------------ */

/* SIGTERM, SIGINT and SIGHUP are blocked and taken one at a time with sigtimedwait(2): no
 * handler, no flag, and no window where a signal arrives between "check" and "sleep". The wait
 * itself is the tick timer. Must happen BEFORE READY=1: a manager may send SIGHUP or SIGTERM the
 * moment it hears READY, and the default action of both is to kill. */
static void block_service_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, set, NULL) < 0) {
        perror("sigprocmask");
        exit(1);
    }
}

/* Waits up to ms milliseconds; returns the signal that came, or 0 when the time ran out. */
static int wait_for_signal(const sigset_t *set, long ms)
{
    struct timespec timeout = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    int sig;

    do
        sig = sigtimedwait(set, NULL, &timeout);
    while (sig < 0 && errno == EINTR);
    if (sig < 0 && errno != EAGAIN) {
        perror("sigtimedwait");
        exit(1);
    }
    return sig < 0 ? 0 : sig;
}

/* ---- the service -------------------------------------------------------------------------- */

static void reload(const struct options *options, struct config *config)
{
    notify_reloading();
    printf("myservice: SIGHUP received, reloading %s\n", options->config_path);
    if (read_config(options->config_path, config) == 0)
        printf("myservice: reloaded config: %s\n", config->text);
    else
        printf("myservice: reload failed, keeping config: %s\n", config->text);
    fflush(stdout);
    notify_ready();
}

int main(int argc, char **argv)
{
    struct options options;
    struct config config;
    sigset_t set;
    long tick = 0;
    int sig;

    parse_options(argc, argv, &options);
    /* The manager may collect stdout through a pipe: line-buffer it so each line goes out now. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    block_service_signals(&set);
    if (read_config(options.config_path, &config) < 0)
        return 1; /* a start failure: Restart=on-failure will try again */
    printf("myservice: started PID=%ld config: %s\n", (long)getpid(), config.text);
    notify_ready();

    for (;;) {
        sig = wait_for_signal(&set, options.interval_ms);
        if (sig == SIGHUP) {
            reload(&options, &config);
        } else if (sig == SIGTERM || sig == SIGINT) {
            notify("STOPPING=1");
            printf("myservice: %s received, shutting down PID=%ld\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT", (long)getpid());
            return 0;
        } else {
            printf("myservice: tick=%ld PID=%ld %s\n", ++tick, (long)getpid(), config.text);
        }
    }
}
