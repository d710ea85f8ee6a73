/* Hostile: reconfigures its terminal (no echo, no canonical mode, no signal keys, a zero window),
 * tries to push "exit" into the shell's input, hangs up the terminal, then closes it. */
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
    struct termios settings;
    if (tcgetattr(STDIN_FILENO, &settings) == 0) {
        settings.c_lflag &= ~(ECHO | ICANON | ISIG | IEXTEN);
        settings.c_oflag &= ~OPOST;
        settings.c_cc[VINTR] = 'q';
        settings.c_cc[VEOF] = 'e';
        tcsetattr(STDIN_FILENO, TCSANOW, &settings);
    }
    struct winsize nothing = {0};
    ioctl(STDIN_FILENO, TIOCSWINSZ, &nothing);
    for (const char *key = "exit\n"; *key != '\0'; key++)
        ioctl(STDIN_FILENO, TIOCSTI, key);  /* refused unless dev.tty.legacy_tiocsti allows it */
    tcflow(STDOUT_FILENO, TCOOFF);           /* suspend output */
    vhangup();                               /* needs CAP_SYS_TTY_CONFIG: refused to a student */
    close(STDIN_FILENO);
    close(STDOUT_FILENO);
    close(STDERR_FILENO);
    return 0;
}
