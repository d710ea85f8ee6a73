/* Hostile: forks without end. The process limit stops it; teardown must still find and kill every copy. */
#include <unistd.h>

int main(void)
{
    for (;;)
        fork();
}
