/*
 * jsh.c -- a small job-control shell.
 *
 * Usage: jsh        (stdin must be the controlling terminal; there is no script mode)
 *
 * What it understands, one line at a time:
 *
 *   cmd arg ...                a foreground job
 *   cmd1 args | cmd2 args ...  a pipeline: one job, one process group
 *   ... &                      the same, started in the background
 *   jobs                       list the jobs
 *   fg [%N]                    give job N (default: the newest) the terminal and continue it
 *   bg [%N]                    continue job N (default: the newest) in the background
 *   exit                       leave (so does end of input, Ctrl-D)
 *
 * No quoting, no redirection, no variables: words are separated by spaces and tabs.
 *
 * Output the grader relies on (see the handout, section 1):
 *
 *   jsh>                               the prompt, exactly "jsh> " with no newline
 *   [1] 5012                           a background job started: its number and process group
 *   [1] Stopped  sleep 100 | cat       a job stopped, or a line of 'jobs'
 *   [1] Running  sleep 100             'bg', or a line of 'jobs'
 *   [1] Done  sleep 1                  a background job ended; also "Exit 3", "Killed by signal 15"
 *
 * Checkpoints: "child-forked" in each child right after fork, before it does anything;
 * "parent-forked" in the shell right after each fork, before it does anything with the child.
 * The grader may hold either one to make the parent/child setpgid race go each way. Keep both
 * calls where they are.
 *
 * What is here already: reading lines, splitting a pipeline into argv lists, the job table, the
 * builtins' dispatch and argument checks, the report lines. What you write is marked TODO, with the
 * handout section that explains it. Until then jsh runs commands, but without job control.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"

#define PROMPT "jsh> "
#define MAX_LINE 1024
#define MAX_JOBS 16
#define MAX_COMMANDS 8
#define MAX_WORDS 32

/* ---------------------------------------------------------------- the job table */

enum process_state { PROCESS_RUNNING, PROCESS_STOPPED, PROCESS_DONE };

struct process {
    char *argv[MAX_WORDS + 1]; /* points into the job's words[] */
    pid_t pid;
    enum process_state state;
    int status; /* the last status waitpid reported for it */
};

struct job {
    bool in_use;          /* the slot holds a parsed line */
    bool launched;        /* ... and its processes were started */
    bool background;
    bool stop_reported;   /* "Stopped" was printed for the current stop */
    pid_t pgid;           /* the job's process group: the PID of its first process */
    char command[MAX_LINE];
    char words[MAX_LINE];
    struct process processes[MAX_COMMANDS];
    int process_count;
};

static struct job jobs[MAX_JOBS]; /* job number N lives in jobs[N - 1] */
static pid_t shell_pgid;
static const int terminal = STDIN_FILENO;

/* The signals a terminal or the line discipline sends to a group; the shell must survive them. */
static const int job_control_signals[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };
#define JOB_CONTROL_SIGNAL_COUNT (sizeof job_control_signals / sizeof job_control_signals[0])

static int job_number(const struct job *job)
{
    return (int)(job - jobs) + 1;
}

static struct job *allocate_job(void)
{
    for (int i = 0; i < MAX_JOBS; i++) {
        if (!jobs[i].in_use) {
            memset(&jobs[i], 0, sizeof jobs[i]);
            jobs[i].in_use = true;
            return &jobs[i];
        }
    }
    return NULL;
}

static void free_job(struct job *job)
{
    job->in_use = false;
    job->launched = false;
}

static struct job *find_job_by_number(int number)
{
    if (number < 1 || number > MAX_JOBS)
        return NULL;
    if (!jobs[number - 1].in_use || !jobs[number - 1].launched)
        return NULL;
    return &jobs[number - 1];
}

/* The newest job: the one 'fg' and 'bg' take without an argument. */
static struct job *newest_job(void)
{
    for (int i = MAX_JOBS - 1; i >= 0; i--)
        if (jobs[i].in_use && jobs[i].launched)
            return &jobs[i];
    return NULL;
}

static struct process *find_process(pid_t pid)
{
    for (int i = 0; i < MAX_JOBS; i++) {
        if (!jobs[i].in_use || !jobs[i].launched)
            continue;
        for (int k = 0; k < jobs[i].process_count; k++)
            if (jobs[i].processes[k].pid == pid)
                return &jobs[i].processes[k];
    }
    return NULL;
}

static bool job_has_state(const struct job *job, enum process_state state)
{
    for (int k = 0; k < job->process_count; k++)
        if (job->processes[k].state == state)
            return true;
    return false;
}

static bool job_is_done(const struct job *job)
{
    return !job_has_state(job, PROCESS_RUNNING) && !job_has_state(job, PROCESS_STOPPED);
}

static bool job_is_stopped(const struct job *job)
{
    return !job_has_state(job, PROCESS_RUNNING) && job_has_state(job, PROCESS_STOPPED);
}

static void mark_job_running(struct job *job)
{
    for (int k = 0; k < job->process_count; k++)
        if (job->processes[k].state == PROCESS_STOPPED)
            job->processes[k].state = PROCESS_RUNNING;
    job->stop_reported = false;
}

/* "Done", "Exit 3" or "Killed by signal 15", from the last process of a finished job. */
static const char *ending_word(const struct job *job, char *buffer, size_t size)
{
    int status = job->processes[job->process_count - 1].status;

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return "Done";
    if (WIFEXITED(status))
        snprintf(buffer, size, "Exit %d", WEXITSTATUS(status));
    else
        snprintf(buffer, size, "Killed by signal %d", WTERMSIG(status));
    return buffer;
}

/* One job line: "[N] Word  command". */
static void report_job(const struct job *job, const char *word)
{
    printf("[%d] %s  %s\n", job_number(job), word, job->command);
    fflush(stdout);
}

/* ---------------------------------------------------------------- parsing */

/* Splits one segment of a pipeline into argv words; false if it has none. */
static bool split_words(char *segment, struct process *process)
{
    int count = 0;

    for (char *word = strtok(segment, " \t"); word != NULL; word = strtok(NULL, " \t")) {
        if (count == MAX_WORDS) {
            fprintf(stderr, "jsh: too many words in one command (at most %d)\n", MAX_WORDS);
            return false;
        }
        process->argv[count++] = word;
    }
    process->argv[count] = NULL;
    if (count == 0)
        fprintf(stderr, "jsh: syntax error: empty command in a pipeline\n");
    return count > 0;
}

/*
 * Fills job from line: command text, background flag, one process per '|' segment.
 * Returns false for a line with nothing to run (blank, or an error already reported).
 */
static bool parse_line(const char *line, struct job *job)
{
    char *end;
    char *segment;
    char *rest;

    snprintf(job->command, sizeof job->command, "%s", line);
    job->command[strcspn(job->command, "\n")] = '\0';

    /* Trim trailing blanks, then a trailing '&' means background. */
    end = job->command + strlen(job->command);
    while (end > job->command && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    if (end > job->command && end[-1] == '&') {
        job->background = true;
        *--end = '\0';
        while (end > job->command && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
    }
    if (job->command[strspn(job->command, " \t")] == '\0') {
        if (job->background)
            fprintf(stderr, "jsh: syntax error: '&' needs a command before it\n");
        return false;
    }
    if (strchr(job->command, '&') != NULL) {
        fprintf(stderr, "jsh: syntax error: '&' may only end a line\n");
        return false;
    }

    memcpy(job->words, job->command, sizeof job->words); /* strsep cuts this copy up */
    rest = job->words;
    while ((segment = strsep(&rest, "|")) != NULL) {
        if (job->process_count == MAX_COMMANDS) {
            fprintf(stderr, "jsh: too many commands in one pipeline (at most %d)\n", MAX_COMMANDS);
            return false;
        }
        if (!split_words(segment, &job->processes[job->process_count]))
            return false;
        job->process_count++;
    }
    return true;
}

/* ---------------------------------------------------------------- waiting */

/* Files one waitpid status under the process it belongs to. */
static void record_status(pid_t pid, int status)
{
    struct process *process = find_process(pid);

    if (process == NULL)
        return;
    process->status = status;
    /* TODO (section 6): a child that stopped (WIFSTOPPED) is PROCESS_STOPPED, not done. */
    process->state = PROCESS_DONE; /* exited or killed by a signal */
}

/* Blocks until no process of job is running: each one has exited, been killed, or stopped. */
static void wait_for_job(struct job *job)
{
    while (job_has_state(job, PROCESS_RUNNING)) {
        int status;
        /* TODO (section 6): also return when a child stops (Ctrl-Z), not only when it ends. */
        pid_t pid = waitpid(-1, &status, 0);

        if (pid < 0) {
            if (errno == EINTR)
                continue;
            perror("waitpid");
            return;
        }
        record_status(pid, status);
    }
}

/* Collects every status change that is already there, without blocking. */
static void collect_finished_children(void)
{
    /* TODO (section 7): collect, without blocking, every child that has ended or stopped since
     * we last looked, and record_status() each one. Report waitpid errors other than ECHILD. */
}

/* Before each prompt: reap what ended (no zombies stay behind) and tell the user. */
static void report_job_changes(void)
{
    char word[32];

    collect_finished_children();
    for (int i = 0; i < MAX_JOBS; i++) {
        struct job *job = &jobs[i];

        if (!job->in_use || !job->launched)
            continue;
        if (job_is_done(job)) {
            report_job(job, ending_word(job, word, sizeof word));
            free_job(job);
        } else if (job_is_stopped(job) && !job->stop_reported) {
            report_job(job, "Stopped");
            job->stop_reported = true;
        }
    }
}

/* ---------------------------------------------------------------- terminal and signals */

static void set_job_control_signals(void (*disposition)(int))
{
    struct sigaction action;

    memset(&action, 0, sizeof action);
    action.sa_handler = disposition;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < JOB_CONTROL_SIGNAL_COUNT; i++)
        if (sigaction(job_control_signals[i], &action, NULL) < 0)
            perror("sigaction");
}

/* Gives the terminal to group pgid: from now on, Ctrl-C and Ctrl-Z go to that group. */
static void give_terminal_to(pid_t pgid)
{
    if (tcsetpgrp(terminal, pgid) < 0)
        perror("tcsetpgrp");
}

/*
 * Waits until we are in the foreground, ignores the signals meant for jobs, makes sure we lead our
 * own group, and makes that group the terminal's foreground group. Started as the session leader
 * (the usual case) we already lead a group that owns the terminal.
 */
static void init_shell(void)
{
    if (!isatty(terminal)) {
        fprintf(stderr, "jsh: standard input is not a terminal; job control needs one\n");
        exit(EXIT_FAILURE);
    }
    shell_pgid = getpgrp();

    /* TODO (section 3), in this order:
     * 1. Started in the background by another shell (jsh &), wait until put in front: if the
     *    terminal's foreground group (tcgetpgrp) is not ours, stop our own group with SIGTTIN.
     *    We run again once continued. Still in the background then (continued by 'bg', or our
     *    group is orphaned and the kernel discarded the stop), exit with a message: trying again
     *    would spin.
     * 2. Ignore the job-control signals (set_job_control_signals).
     * 3. Lead our own group: shell_pgid = getpid(), and setpgid() unless we already lead a group.
     *    (A session leader does, and setpgid() on it fails with EPERM.)
     * 4. Make our group the terminal's foreground group.
     * Report each failure (kill included) with perror() and exit. */
    (void)set_job_control_signals; /* a helper for your TODOs: delete this line when used */
}

/* ---------------------------------------------------------------- starting jobs */

/* In the child: join the job's group, take the terminal if in front, undo the shell's signals, exec. */
static void run_child(struct job *job, struct process *process, int input, int output, int unused)
{
    pid_t pgid;

    checkpoint("child-forked");
    /* The first process founds the group; job->pgid was copied to us at fork, 0 for the first. */
    pgid = job->pgid != 0 ? job->pgid : getpid();
    (void)pgid;
    /* TODO (section 4): join the job's group pgid (setpgid), and for a foreground job make it the
     * terminal's foreground group (tcsetpgrp), before exec. Then (section 5) put the signals the
     * shell ignores back to their defaults. */

    if (input != STDIN_FILENO) {
        if (dup2(input, STDIN_FILENO) < 0) {
            perror("dup2");
            _exit(126);
        }
        close(input);
    }
    if (output != STDOUT_FILENO) {
        if (dup2(output, STDOUT_FILENO) < 0) {
            perror("dup2");
            _exit(126);
        }
        close(output);
    }
    if (unused >= 0)
        close(unused);

    execvp(process->argv[0], process->argv);
    if (errno == ENOENT)
        fprintf(stderr, "jsh: %s: command not found\n", process->argv[0]);
    else
        fprintf(stderr, "jsh: %s: %s\n", process->argv[0], strerror(errno));
    _exit(127);
}

static void put_job_in_foreground(struct job *job, bool continue_it);

/*
 * Forks process k of job, with stdin from *input and, unless it is the last, stdout into a new
 * pipe whose read end it leaves in *input for the next process. False (reported) if it failed.
 */
static bool start_process(struct job *job, int k, int *input)
{
    int pipe_ends[2] = { -1, -1 };
    int output = STDOUT_FILENO;
    pid_t pid;

    if (k < job->process_count - 1) {
        if (pipe(pipe_ends) < 0) {
            perror("pipe");
            return false;
        }
        output = pipe_ends[1];
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        if (output != STDOUT_FILENO) {
            close(pipe_ends[0]);
            close(pipe_ends[1]);
        }
        return false;
    }
    if (pid == 0)
        run_child(job, &job->processes[k], *input, output, pipe_ends[0]);

    checkpoint("parent-forked");
    job->processes[k].pid = pid;
    job->processes[k].state = PROCESS_RUNNING;
    if (job->pgid == 0)
        job->pgid = pid;
    /* TODO (section 4): put the child in the job's group from this side too (setpgid).
     * Why both sides, and which error to expect here, is in the handout. */

    if (*input != STDIN_FILENO)
        close(*input);
    if (output != STDOUT_FILENO)
        close(output);
    *input = output != STDOUT_FILENO ? pipe_ends[0] : STDIN_FILENO;
    return true;
}

/*
 * A pipeline that could not be started in full: the processes that did start would wait on pipes
 * that lead nowhere. Kill them, collect them (no zombies), take the terminal back in case one of
 * them had taken it, and forget the job.
 */
static void abandon_job(struct job *job)
{
    if (job->process_count > 0) {
        if (kill(-job->pgid, SIGKILL) < 0)
            perror("kill (SIGKILL)");
        wait_for_job(job);
        give_terminal_to(shell_pgid);
        fprintf(stderr, "jsh: %s: could not start every process; killed those started\n", job->command);
    }
    free_job(job);
}

/* Starts every process of job, each in the job's group, connected by pipes. */
static void launch_job(struct job *job)
{
    int input = STDIN_FILENO;
    int started = 0;

    job->launched = true;
    while (started < job->process_count && start_process(job, started, &input))
        started++;
    if (input != STDIN_FILENO)
        close(input);
    if (started < job->process_count) {
        job->process_count = started; /* the others were never forked: nothing to wait for */
        abandon_job(job);
        return;
    }

    if (job->background) {
        printf("[%d] %ld\n", job_number(job), (long)job->pgid);
        fflush(stdout);
    } else {
        put_job_in_foreground(job, false);
    }
}

/* Lets job own the terminal until it stops or ends, then takes the terminal back. */
static void put_job_in_foreground(struct job *job, bool continue_it)
{
    char word[32];

    job->background = false;
    /* TODO (section 4): give the terminal to the job's group. */
    if (continue_it) {
        mark_job_running(job);
        /* TODO (section 8): continue every process of the job (SIGCONT). */
    }

    wait_for_job(job);

    /* TODO (section 4): the job stopped or ended; take the terminal back for the shell. */

    if (job_is_stopped(job)) {
        printf("\n");
        report_job(job, "Stopped");
        job->stop_reported = true;
    } else if (job_is_done(job)) {
        int status = job->processes[job->process_count - 1].status;

        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)
            printf("\n"); /* after the ^C the terminal echoed */
        else if (WIFSIGNALED(status))
            report_job(job, ending_word(job, word, sizeof word));
        fflush(stdout);
        free_job(job);
    }
}

/* ---------------------------------------------------------------- builtins */

/* The job named by "%N" or "N", or the newest job when there is no argument; NULL with a message. */
static struct job *job_from_argument(const char *builtin, char *argv[])
{
    const char *text;
    char *end;
    long number;
    struct job *job;

    if (argv[1] == NULL) {
        job = newest_job();
        if (job == NULL)
            fprintf(stderr, "jsh: %s: no current job\n", builtin);
        return job;
    }
    if (argv[2] != NULL) {
        fprintf(stderr, "jsh: %s: usage: %s [%%N]\n", builtin, builtin);
        return NULL;
    }
    text = argv[1][0] == '%' ? argv[1] + 1 : argv[1];
    number = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0') {
        fprintf(stderr, "jsh: %s: %s: not a job number (use %%N)\n", builtin, argv[1]);
        return NULL;
    }
    job = find_job_by_number((int)number);
    if (job == NULL)
        fprintf(stderr, "jsh: %s: %s: no such job\n", builtin, argv[1]);
    return job;
}

static void builtin_jobs(char *argv[])
{
    (void)argv;
    /* TODO (section 8): one report_job() line per launched job that is not done yet, with the
     * word "Stopped" or "Running". */
}

static void builtin_fg(char *argv[])
{
    struct job *job = job_from_argument("fg", argv);

    if (job == NULL)
        return;
    /* TODO (section 8): print the job's command line, then put it in the foreground and
     * continue it. */
    fprintf(stderr, "jsh: fg: not written yet\n");
}

static void builtin_bg(char *argv[])
{
    struct job *job = job_from_argument("bg", argv);

    if (job == NULL)
        return;
    if (!job_is_stopped(job)) {
        fprintf(stderr, "jsh: bg: job %d is already running\n", job_number(job));
        return;
    }
    /* TODO (section 8): continue the job in the background: mark it running and in the
     * background, continue all its processes, leave the terminal alone, report "Running". */
    fprintf(stderr, "jsh: bg: not written yet\n");
}

static void hang_up_jobs(void);

static void builtin_exit(char *argv[])
{
    (void)argv;
    hang_up_jobs();
    exit(EXIT_SUCCESS);
}

static const struct builtin {
    const char *name;
    void (*run)(char *argv[]);
} builtins[] = {
    { "jobs", builtin_jobs },
    { "fg", builtin_fg },
    { "bg", builtin_bg },
    { "exit", builtin_exit },
};

/* Runs argv as a builtin if it names one; false if it does not. */
static bool run_builtin(char *argv[])
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(argv[0], builtins[i].name) == 0) {
            builtins[i].run(argv);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- main loop */

/* On the way out, jobs get what a terminal hangup would give them: SIGHUP, then SIGCONT. */
static void hang_up_jobs(void)
{
    for (int i = 0; i < MAX_JOBS; i++) {
        if (!jobs[i].in_use || !jobs[i].launched || job_is_done(&jobs[i]))
            continue;
        if (kill(-jobs[i].pgid, SIGHUP) < 0 || kill(-jobs[i].pgid, SIGCONT) < 0)
            perror("kill");
    }
}

static void run_line(const char *line)
{
    struct job *job = allocate_job();

    if (job == NULL) {
        fprintf(stderr, "jsh: too many jobs (at most %d)\n", MAX_JOBS);
        return;
    }
    if (!parse_line(line, job)) {
        free_job(job);
        return;
    }
    if (job->process_count == 1 && !job->background && run_builtin(job->processes[0].argv)) {
        free_job(job);
        return;
    }
    launch_job(job);
}

int main(void)
{
    char line[MAX_LINE];

    init_shell();
    for (;;) {
        report_job_changes();
        fputs(PROMPT, stdout);
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL) {
            if (ferror(stdin)) {
                perror("jsh: read");
                hang_up_jobs();
                return EXIT_FAILURE;
            }
            break; /* end of input: Ctrl-D at the start of a line */
        }
        run_line(line);
    }
    printf("\n");
    hang_up_jobs();
    return EXIT_SUCCESS;
}
