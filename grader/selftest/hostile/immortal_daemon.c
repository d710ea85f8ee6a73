/* Hostile: a daemon that ignores SIGTERM and SIGHUP and re-forks without end, so its PID keeps
 * changing under whoever tries to kill it. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    if (fork() != 0)
        return 0;  /* the command returns at once; the daemon lives on */
    setsid();
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (;;) {
        pid_t child = fork();
        if (child > 0)
            _exit(0);  /* the parent goes, the child carries on under a new PID */
        if (child < 0)
            usleep(1000);
    }
}
