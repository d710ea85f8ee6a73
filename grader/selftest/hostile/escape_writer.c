/* Hostile: reaches outside its working folder. It tries to read a solution, to change the grader's
 * checks of another lab, and to fill the shared temporary folder with a 100 MB file; it prints what
 * was allowed. The test compiles it with -D for the paths (see test_hostile.py). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void try_open(const char *what, const char *path, int flags)
{
    int fd = open(path, flags);
    printf("%s %s: %s\n", what, path, fd >= 0 ? "ALLOWED" : strerror(errno));
    fflush(stdout);
    if (fd >= 0 && (flags & O_ACCMODE) != O_RDONLY)
        write(fd, "this check is broken(\n", 22);
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    try_open("read", SOLUTION, O_RDONLY);
    try_open("write", CHECKS, O_WRONLY | O_APPEND);
    static char block[1 << 20];
    int fd = open(LITTER, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("create %s: %s\n", LITTER, fd >= 0 ? "ALLOWED" : strerror(errno));
    fflush(stdout);
    for (int megabytes = 0; fd >= 0 && megabytes < 100; megabytes++)
        if (write(fd, block, sizeof block) < 0)
            break;  /* the file-size limit ends it with SIGXFSZ first */
    return 0;
}
