/*
 * checkpoint.h -- the one helper every lab program links with. Do not edit.
 *
 * Call checkpoint("name") at the moments your lab's handout names.
 *
 * - Run by hand, it does nothing, unless you set PROCGROUP_TRACE=1 in the environment: then it prints
 *   one line to stderr with the kernel's view of the calling process at that moment, read from
 *   /proc/self/stat (pid, ppid, pgid, sid, controlling terminal, the terminal's foreground group).
 * - Under the grader (PROCGROUP_CHECKPOINT_SOCKET is set), it tells the grader it has arrived and
 *   waits until the grader has looked at the process in /proc. The grader may hold a process here
 *   for a while on purpose, to make a race happen.
 *
 * It never fails, keeps errno as it was, leaves no file descriptor open, and uses only
 * async-signal-safe calls, so it may be called from a signal handler.
 */
#ifndef PROCGROUP_CHECKPOINT_H
#define PROCGROUP_CHECKPOINT_H

void checkpoint(const char *name);

#endif
