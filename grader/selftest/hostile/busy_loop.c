/* Hostile: spins on the CPU for ever and never reaches a checkpoint. */
int main(void)
{
    volatile unsigned long spins = 0;
    for (;;)
        spins++;
}
