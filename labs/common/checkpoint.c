/*
 * checkpoint.c -- provided helper; see checkpoint.h. Do not edit: the grader relies on it.
 *
 * Everything here uses only async-signal-safe calls (open, read, write, socket, connect, send,
 * close) and formats numbers by hand, so a lab may call checkpoint() from a signal handler.
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_VARIABLE "PROCGROUP_CHECKPOINT_SOCKET"
#define TRACE_VARIABLE "PROCGROUP_TRACE"
#define MAX_NAME 64

/* A small fixed buffer that text and numbers are appended to; it never overflows. */
struct line {
    char text[512];
    size_t length;
};

static void append_text(struct line *line, const char *text)
{
    while (*text != '\0' && line->length < sizeof line->text - 1)
        line->text[line->length++] = *text++;
    line->text[line->length] = '\0';
}

static void append_number(struct line *line, long value)
{
    char digits[24];
    int count = 0;
    unsigned long magnitude = value < 0 ? 0UL - (unsigned long)value : (unsigned long)value;

    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        append_text(line, "-");
    while (count > 0) {
        char digit[2] = { digits[--count], '\0' };
        append_text(line, digit);
    }
}

/* Under the grader: connect, send "name\n", wait for the one-byte release, close. */
static void report_to_grader(const char *socket_path, const char *name)
{
    struct sockaddr_un address;
    struct line message = { .length = 0 };
    char release;
    ssize_t got;
    int fd;

    if (strlen(socket_path) >= sizeof address.sun_path)
        return;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, socket_path, strlen(socket_path) + 1);

    /* Close-on-exec, so a program that execs while another thread sits here leaks nothing. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) == 0) {
        append_text(&message, name);
        append_text(&message, "\n");
        /* MSG_NOSIGNAL: a grader that went away must not kill us with SIGPIPE. */
        if (send(fd, message.text, message.length, MSG_NOSIGNAL) == (ssize_t)message.length) {
            do
                got = read(fd, &release, 1);
            while (got < 0 && errno == EINTR);
        }
    }
    close(fd);
}

/* Returns the fields of /proc/self/stat that follow "(comm)", or NULL. */
static const char *read_stat_fields(char *buffer, size_t size)
{
    ssize_t got;
    char *last_paren;
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    got = read(fd, buffer, size - 1);
    close(fd);
    if (got <= 0)
        return NULL;
    buffer[got] = '\0';
    /* comm may itself contain ") ", so the fields start after the LAST ')'. */
    last_paren = strrchr(buffer, ')');
    return last_paren != NULL ? last_paren + 2 : NULL;
}

static long next_number(const char **cursor)
{
    char *end;
    long value = strtol(*cursor, &end, 10);

    *cursor = end;
    return value;
}

/* Describes a tty_nr from /proc/PID/stat the way ps does: "none", "pts/3", or "dev 4:1". */
static void append_terminal(struct line *line, long tty_nr)
{
    long major = (tty_nr >> 8) & 0xfff;
    long minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);

    if (tty_nr == 0) {
        append_text(line, "none");
    } else if (major >= 136 && major <= 143) {
        append_text(line, "pts/");
        append_number(line, (major - 136) * 256 + minor);
    } else {
        append_text(line, "dev ");
        append_number(line, major);
        append_text(line, ":");
        append_number(line, minor);
    }
}

/* Trace mode: one line to stderr with what the kernel says about this process right now. */
static void print_kernel_view(const char *name)
{
    char stat[1024];
    struct line line = { .length = 0 };
    const char *fields = read_stat_fields(stat, sizeof stat);
    long ppid, pgid, sid, tty_nr, tpgid;

    append_text(&line, "[checkpoint ");
    append_text(&line, name);
    append_text(&line, "] pid=");
    append_number(&line, (long)getpid());
    if (fields != NULL) {
        fields += 2; /* skip the one-letter state and its space */
        ppid = next_number(&fields);
        pgid = next_number(&fields);
        sid = next_number(&fields);
        tty_nr = next_number(&fields);
        tpgid = next_number(&fields);
        append_text(&line, " ppid=");
        append_number(&line, ppid);
        append_text(&line, " pgid=");
        append_number(&line, pgid);
        append_text(&line, " sid=");
        append_number(&line, sid);
        append_text(&line, " tty=");
        append_terminal(&line, tty_nr);
        append_text(&line, " tpgid=");
        append_number(&line, tpgid);
    }
    append_text(&line, "\n");
    (void)!write(STDERR_FILENO, line.text, line.length);
}

void checkpoint(const char *name)
{
    int saved_errno = errno;
    const char *socket_path = getenv(SOCKET_VARIABLE);
    const char *trace = getenv(TRACE_VARIABLE);
    char short_name[MAX_NAME + 1];
    size_t length = 0;

    if (name == NULL)
        name = "(null)";
    /* Names are short words like "after-setpgid"; a newline would end the message early. */
    while (name[length] != '\0' && name[length] != '\n' && length < MAX_NAME) {
        short_name[length] = name[length];
        length++;
    }
    short_name[length] = '\0';

    if (socket_path != NULL && socket_path[0] != '\0')
        report_to_grader(socket_path, short_name);
    else if (trace != NULL && trace[0] != '\0' && strcmp(trace, "0") != 0)
        print_kernel_view(short_name);
    errno = saved_errno;
}
