/*
 * path.c - resolving a guest path inside the sandbox.
 *
 * Every path a guest passes is relative to a directory descriptor it holds
 * (a preopen, or a directory opened below one).  The rule is that no path
 * can name anything outside that directory.  Handing the whole path to the
 * kernel would break it three ways: `..` climbs out, an absolute path
 * starts somewhere else, and a symlink inside may point anywhere.  So the
 * walk is done here, one component at a time, the way openat2's
 * RESOLVE_BENEATH does it in the kernel (and cap-std in wasmtime):
 *
 *   - each directory on the way is opened with openat(parent, name,
 *     O_DIRECTORY | O_NOFOLLOW): the kernel never follows a symlink for us
 *     and never looks at more than one name;
 *   - the directories opened so far are kept on a stack, so `..` is a pop,
 *     and a pop from the base itself is refused (ENOTCAPABLE), without ever
 *     asking the host what `..` is;
 *   - a symlink (O_NOFOLLOW fails, readlinkat succeeds) is expanded in
 *     place: its target replaces the component, and the walk goes on from
 *     the directory that holds it.  Absolute targets are refused; relative
 *     ones are confined by the same `..` rule.  More than MAX_SYMLINKS
 *     expansions is ELOOP, which also ends loops.
 *
 * What comes out is (directory fd, last name); the host function then uses
 * an *at() call with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW on that one name.
 * Because the directory is held open, renaming or replacing components
 * concurrently cannot move the operation outside: a directory swapped for a
 * symlink after we checked it is still refused by O_NOFOLLOW (ELOOP).
 *
 * Length.  A path of WASI_PATH_MAX bytes or more is ENAMETOOLONG, which
 * is what Linux says of one given to a single call (PATH_MAX, 4096, with
 * its NUL).  Without that limit one path_open of 48 MiB was millions of
 * openat()s in one host call, holding a worker for seconds; with it a
 * walk is at most ~2,000 components, plus at most MAX_SYMLINKS targets of
 * the same bound, which keeps every host call of a path short without
 * having to make the walk restartable.
 *
 * openat2(RESOLVE_BENEATH) would do the same in one system call on Linux
 * 5.6 and later; the user-space walk is kept as the one implementation
 * because it is portable and because it is the reference for what the
 * sandbox means.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

/* The longest guest path, bytes (see "Length" above). */
#define WASI_PATH_MAX 4096u
#include <string.h>
#include <unistd.h>

/* Linux's own limit on symlinks in one lookup. */
#define MAX_SYMLINKS 40

/* Intermediate directories are only ever used as the base of *at() calls,
 * which O_PATH descriptors allow without needing read permission on the
 * directory (a directory with only `x` can be walked, as natively). */
#ifdef O_PATH
#define WALK_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define WALK_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

/* The directories of the walk so far; dirs[0] is the base (not ours). */
typedef struct dir_stack {
    int *dirs;
    uint32_t depth, cap;
} dir_stack;

static bool push(dir_stack *s, int fd)
{
    if (s->depth + 1 == s->cap) {
        uint32_t n = s->cap * 2;
        int *grown = realloc(s->dirs, n * sizeof *grown);
        if (!grown)
            return false;
        s->dirs = grown;
        s->cap = n;
    }
    s->dirs[++s->depth] = fd;
    return true;
}

/* Replace the component just read (a symlink in directory dirfd) with the
 * link's target: *work becomes TARGET + "/" + rest (or just TARGET when
 * nothing follows, plus "/" if the guest wrote one).  Returns 0, EINVAL if
 * `name` is not a symlink, or another WASI errno. */
static uint32_t expand_link(int dirfd, const char *name, const char *rest, bool slash,
                            char **work, int *links)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target);
    if (n < 0)
        return wasi_errno_from_host(errno);
    if ((size_t)n >= sizeof target)
        return WASI_ENAMETOOLONG;
    if (++*links > MAX_SYMLINKS)
        return WASI_ELOOP;
    if (n == 0)
        return WASI_ENOENT;
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;    /* would leave the sandbox at once */
    size_t rest_len = strlen(rest);
    char *next = malloc((size_t)n + 1 + rest_len + 1);
    if (!next)
        return WASI_ENOMEM;
    memcpy(next, target, (size_t)n);
    size_t at = (size_t)n;
    if (rest_len || slash)
        next[at++] = '/';
    memcpy(next + at, rest, rest_len + 1);
    free(*work);
    *work = next;
    return WASI_ESUCCESS;
}

uint32_t wasi_path_resolve(const wasi_fd *base, const wasi_mem *m, uint32_t ptr, uint32_t len,
                           bool follow_last, wasi_path *out)
{
    memset(out, 0, sizeof *out);
    out->dirfd = -1;
    if (!wasi_mem_check(m, ptr, len))
        return WASI_EFAULT;
    if (base->type != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    if (len >= WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;   /* before any byte is looked at */
    if (len == 0)
        return WASI_ENOENT;
    if (!lvm_utf8_valid(m->base + ptr, len))
        return WASI_EILSEQ;         /* not a string: refused unread, as wasmtime */
    if (memchr(m->base + ptr, '\0', len))
        return WASI_EINVAL;         /* the host could not even spell it */
    if (m->base[ptr] == '/')
        return WASI_ENOTCAPABLE;    /* absolute: relative to nothing we gave */

    char *work = malloc((size_t)len + 1);
    dir_stack s = { malloc(8 * sizeof(int)), 0, 8 };
    if (!work || !s.dirs) {
        free(work);
        free(s.dirs);
        return WASI_ENOMEM;
    }
    memcpy(work, m->base + ptr, len);
    work[len] = '\0';
    s.dirs[0] = base->host_fd;

    uint32_t err = WASI_ESUCCESS;
    int links = 0;
    const char *final = NULL;       /* points into work */
    bool final_slash = false;
    size_t at = 0;
    for (;;) {
        /* Split off the next component; `slash` says a '/' ended it. */
        while (work[at] == '/')
            at++;
        char *comp = work + at;
        size_t clen = strcspn(comp, "/");
        bool slash = comp[clen] == '/';
        size_t next_at = at + clen;
        while (work[next_at] == '/')
            next_at++;
        bool last = work[next_at] == '\0';
        comp[clen] = '\0';          /* comp is now a C string */
        int dirfd = s.dirs[s.depth];

        if (clen == 0 || strcmp(comp, ".") == 0) {
            if (last) {             /* "dir/." or "dir/": the dir itself */
                final = ".";
                final_slash = slash || clen == 0;
                break;
            }
        } else if (strcmp(comp, "..") == 0) {
            if (s.depth == 0) {
                err = WASI_ENOTCAPABLE;     /* above the base */
                break;
            }
            close(s.dirs[s.depth--]);
            if (last) {
                final = ".";
                final_slash = true;
                break;
            }
        } else if (last) {
            /* The last name is the operation's; follow it only if asked,
             * or if "name/" demands a directory (POSIX follows then). */
            if (follow_last || slash) {
                uint32_t e = expand_link(dirfd, comp, "", slash, &work, &links);
                if (e == WASI_ESUCCESS) {
                    at = 0;
                    continue;
                }
                if (e != WASI_EINVAL && e != WASI_ENOENT) {
                    err = e;
                    break;
                }
            }
            final = comp;
            final_slash = slash;
            break;
        } else {
            int fd = openat(dirfd, comp, WALK_FLAGS);
            if (fd >= 0) {
                if (!push(&s, fd)) {
                    close(fd);
                    err = WASI_ENOMEM;
                    break;
                }
            } else {
                /* O_NOFOLLOW on a symlink: ELOOP on Linux, EMLINK on
                 * FreeBSD, ENOTDIR where O_DIRECTORY is checked first. */
                int host = errno;
                if (host == ELOOP || host == EMLINK || host == ENOTDIR) {
                    uint32_t e = expand_link(dirfd, comp, work + next_at, false, &work, &links);
                    if (e == WASI_ESUCCESS) {
                        at = 0;
                        continue;
                    }
                    if (e != WASI_EINVAL) {
                        err = e;
                        break;
                    }
                }
                err = wasi_errno_from_host(host);
                break;
            }
        }
        at = next_at;
    }

    if (err == WASI_ESUCCESS) {
        out->name = strdup(final);
        if (!out->name)
            err = WASI_ENOMEM;
    }
    /* Close the directories between the base and the last one; keep the
     * last one (the caller's dirfd) unless we failed. */
    for (uint32_t i = 1; i < s.depth; i++)
        close(s.dirs[i]);
    if (err == WASI_ESUCCESS) {
        out->dirfd = s.dirs[s.depth];
        out->owned = s.depth > 0;
        out->trailing_slash = final_slash;
    } else if (s.depth > 0) {
        close(s.dirs[s.depth]);
    }
    free(s.dirs);
    free(work);
    return err;
}

void wasi_path_done(wasi_path *p)
{
    if (p->owned)
        close(p->dirfd);
    free(p->name);
    memset(p, 0, sizeof *p);
    p->dirfd = -1;
}
