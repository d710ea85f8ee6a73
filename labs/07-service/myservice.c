/*
 * myservice.c -- STARTER for lab 07. Make it a well-behaved managed service (README sections 2-5).
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

/* Section 3: send one datagram to the socket named in $NOTIFY_SOCKET (do nothing if it is unset).
 * Returns 0 on success, -1 (after perror) on failure. */
static int notify(const char *message)
{
    (void)message;
    /* TODO: build a struct sockaddr_un from $NOTIFY_SOCKET. A name starting with '@' is an
     * abstract socket: sun_path[0] is '\0' and the address length has no terminating NUL.
     * Then socket(AF_UNIX, SOCK_DGRAM ...), sendto(), close(). */
    return 0;
}

static void notify_ready(void)
{
    notify("READY=1");
    checkpoint("sent-ready");
}

static void notify_reloading(void)
{
    /* TODO (section 4): send "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC in microseconds>". */
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

/* Section 2: SIGTERM, SIGINT and SIGHUP must not kill the service; it handles them itself. */
static void block_service_signals(sigset_t *set)
{
    sigemptyset(set);
    /* TODO: add SIGTERM, SIGINT and SIGHUP to *set and block them (sigprocmask(2)), so that
     * wait_for_signal() can take them one at a time. */
}

/* Waits up to ms milliseconds; returns the signal that came, or 0 when the time ran out. */
static int wait_for_signal(const sigset_t *set, long ms)
{
    struct timespec interval = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    (void)set;
    /* TODO: wait with sigtimedwait(2) instead, so a signal ends the wait at once. */
    nanosleep(&interval, NULL);
    return 0;
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
            /* TODO (section 5): tell the manager STOPPING=1, log the shutdown line, exit 0. */
        } else {
            printf("myservice: tick=%ld PID=%ld %s\n", ++tick, (long)getpid(), config.text);
        }
    }
}
