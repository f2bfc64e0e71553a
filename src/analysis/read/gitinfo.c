/* SPDX-License-Identifier: MIT */
/* gitinfo.c — runs `git rev-parse HEAD` and `git status --porcelain` in a directory.
 * git's stderr is discarded; a missing git or a directory outside a repository is normal. */
#include "analysis/read/gitinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs argv, returns up to len-1 bytes of its stdout in buf (NUL-terminated). Returns the
 * exit status, or -1 when it could not run. */
static int capture(char *const argv[], char *buf, size_t len)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return -1;
    }
    size_t n = 0;
    ssize_t got;
    char chunk[4096];
    while ((got = read(pipefd[0], chunk, sizeof chunk)) > 0) { /* keep what fits, drain the rest */
        size_t take = (size_t)got < len - 1 - n ? (size_t)got : len - 1 - n;
        memcpy(buf + n, chunk, take);
        n += take;
    }
    buf[n] = '\0';
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void git_info_read(const char *dir, struct git_info *g)
{
    g->commit = NULL;
    g->dirty = false;
    char out[256];
    char *rev[] = {"git", "-C", (char *)dir, "rev-parse", "--verify", "-q", "HEAD", NULL};
    if (capture(rev, out, sizeof out) != 0)
        return;
    out[strcspn(out, "\r\n")] = '\0';
    if (strlen(out) < 7)
        return;
    g->commit = strdup(out);
    char *status[] = {"git", "-C", (char *)dir, "status", "--porcelain", "--untracked-files=no",
                      NULL};
    g->dirty = capture(status, out, sizeof out) == 0 && out[0] != '\0';
}

void git_info_free(struct git_info *g)
{
    free(g->commit);
    g->commit = NULL;
}

char *git_toplevel(const char *dir)
{
    char out[4096];
    char *argv[] = {"git", "-C", (char *)dir, "rev-parse", "--show-toplevel", NULL};
    if (capture(argv, out, sizeof out) != 0)
        return NULL;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] == '/' ? strdup(out) : NULL;
}
