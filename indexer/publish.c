#include "indexer/publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return unlink(path);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4096 + 256 + 2];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (!lstat(p, &st) && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    return rmdir(path);
}

int publish_remove_tree(const char *path)
{
    return remove_tree(path);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void split_parent(const char *out, char *parent, size_t cap, const char **base)
{
    const char *slash = strrchr(out, '/');
    if (!slash) {
        snprintf(parent, cap, ".");
        *base = out;
    } else if (slash == out) {
        snprintf(parent, cap, "/");
        *base = slash + 1;
    } else {
        snprintf(parent, cap, "%.*s", (int)(slash - out), out);
        *base = slash + 1;
    }
}

/* Removes OUT.tmp-PID directories whose build process is gone. */
static void clean_leftovers(const char *out)
{
    char parent[4096];
    const char *base;
    split_parent(out, parent, sizeof parent, &base);
    DIR *d = opendir(parent);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".tmp-", 5)) continue;
        long pid = strtol(e->d_name + bl + 5, NULL, 10);
        /* EPERM: the process exists but belongs to someone else. */
        if (pid > 0 && pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue; /* another build is running right now */
        char p[4096 + 256 + 2];
        snprintf(p, sizeof p, "%s/%s", parent, e->d_name);
        remove_tree(p);
    }
    closedir(d);
}

/* Refuses to replace anything that is not an idx index or an empty directory. */
static int check_target(const char *out, int *exists, idx_err *err)
{
    struct stat st;
    *exists = 0;
    if (stat(out, &st)) {
        if (errno == ENOENT) return 0;
        return err_errno(err, IDX_EDATA, errno, "%s", out);
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(err, IDX_EDATA, "%s: exists and is not a directory", out);
    *exists = 1;
    char meta[4096 + 8];
    snprintf(meta, sizeof meta, "%s/meta", out);
    if (access(meta, F_OK) == 0) return 0;
    DIR *d = opendir(out);
    if (!d) return err_errno(err, IDX_EDATA, errno, "%s", out);
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty)
        return err_set(err, IDX_EDATA, "%s: exists and is not an idx index; refusing to replace it",
                       out);
    return 0;
}

/* Sets p->out: "ix/" names the directory ix, whose temporary sibling must
 * be ix.tmp-PID. */
static int set_out(publish *p, const char *out, idx_err *err)
{
    *p = (publish){0};
    size_t ol = strlen(out);
    while (ol > 1 && out[ol - 1] == '/')
        ol--;
    if (ol >= sizeof p->out) return err_set(err, IDX_EUSAGE, "output path too long");
    memcpy(p->out, out, ol);
    p->out[ol] = '\0';
    return 0;
}

int publish_begin(publish *p, const char *out, idx_err *err)
{
    int rc = set_out(p, out, err);
    if (!rc) rc = check_target(p->out, &p->exists, err);
    if (rc) return rc;
    clean_leftovers(p->out);
    snprintf(p->tmp, sizeof p->tmp, "%s.tmp-%ld", p->out, (long)getpid());
    if (mkdir(p->tmp, 0755)) return err_errno(err, IDX_EIO, errno, "creating %s", p->tmp);
    p->made = 1;
    return 0;
}

/* Whether resolved path a is b or lies below it. */
static int path_within(const char *a, const char *b)
{
    size_t bl = strlen(b);
    return !strncmp(a, b, bl) && (a[bl] == '/' || a[bl] == '\0' || bl == 1);
}

int publish_check_inputs(const publish *p, const char *const *inputs, size_t n, idx_err *err)
{
    char out[PATH_MAX], in[PATH_MAX];
    /* Where OUT is or will be: our temporary sibling, resolved, without ".tmp-PID". */
    if (!realpath(p->exists ? p->out : p->tmp, out)) return 0;
    char *dot = p->exists ? NULL : strrchr(out, '.');
    if (dot) *dot = '\0';
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!realpath(inputs[i], in) || stat(in, &st)) continue; /* the reader reports it */
        if (p->exists && path_within(in, out))
            return err_set(err, IDX_EDATA,
                           "%s: input lies inside the index it would replace; %s left unchanged",
                           inputs[i], p->out);
        /* The walk would read the old index, or the new one's temporary files. */
        if (S_ISDIR(st.st_mode) && path_within(out, in))
            return err_set(err, IDX_EDATA,
                           "%s: the index %s lies inside this input directory; %s left unchanged",
                           inputs[i], p->out, p->out);
    }
    return 0;
}

/* Waits for the writer lock of the index at out (held until *fd is closed),
 * polling so that a stop request is seen: a signal handler installed with
 * SA_RESTART would not end a blocking flock. */
static int lock_writer(const char *out, const volatile sig_atomic_t *stop, int *fd, idx_err *err)
{
    char path[4096 + 16];
    snprintf(path, sizeof path, "%s/write.lock", out);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) return err_errno(err, IDX_EIO, errno, "%s", path);
    while (flock(*fd, LOCK_EX | LOCK_NB)) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return err_errno(err, IDX_EIO, errno, "locking %s", path);
        if (stop && *stop) return err_set(err, IDX_EINTR, "interrupted");
        struct timespec ts = {0, 10000000L}; /* 10 ms */
        nanosleep(&ts, NULL);
    }
    return 0;
}

int publish_commit(publish *p, const volatile sig_atomic_t *stop, idx_err *err)
{
    if (fsync_path(p->tmp)) return err_errno(err, IDX_EIO, errno, "sync %s", p->tmp);
    if (p->exists) {
        int lock = -1;
        int rc = lock_writer(p->out, stop, &lock, err);
        /* One atomic swap: readers see the old index or the new one, never none. */
        if (!rc && renameat2(AT_FDCWD, p->tmp, AT_FDCWD, p->out, RENAME_EXCHANGE))
            rc = err_errno(err, IDX_EIO, errno, "replacing %s", p->out);
        if (lock >= 0) close(lock);
        if (rc) return rc;
        p->made = 0;
        remove_tree(p->tmp); /* now holds the old index */
    } else if (rename(p->tmp, p->out)) {
        return err_errno(err, IDX_EIO, errno, "renaming into %s", p->out);
    }
    p->made = 0;
    char parent[4096];
    const char *base;
    split_parent(p->out, parent, sizeof parent, &base);
    fsync_path(parent);
    return 0;
}

void publish_abort(publish *p)
{
    if (p->made) remove_tree(p->tmp);
    p->made = 0;
}
