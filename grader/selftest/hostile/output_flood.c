/* Hostile: writes 100 MB to the terminal. The grader keeps a bounded transcript and stops reading. */
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    block[sizeof block - 1] = '\n';
    for (long written = 0; written < 100L * 1000 * 1000; written += (long)sizeof block)
        if (write(STDOUT_FILENO, block, sizeof block) < 0)
            return 1;
    return 0;
}
