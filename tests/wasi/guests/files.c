/*
 * files.c - files and directories through wasi-libc, in the preopened
 * directory "." (run as: lvm run --dir SCRATCH::. files.wasm).  Covers
 * open flags, read/write, seek/tell, pread/pwrite, truncate, allocate,
 * advise, sync, stat and timestamps, append, mkdir/rmdir, readdir (enough
 * entries to need several fd_readdir calls and their cookies), rename,
 * hard and symbolic links, unlink, renumber, fdstat flags and rights.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void files(void)
{
    int fd = open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello world", 11) == 11);
    CHECK(lseek(fd, 0, SEEK_CUR) == 11);
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    char buf[64] = { 0 };
    CHECK(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "world", 5) == 0);
    CHECK(pwrite(fd, "W", 1, 6) == 1);
    CHECK(pread(fd, buf, 5, 6) == 5 && memcmp(buf, "World", 5) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 11);        /* p* leave the offset alone */
    __wasi_filesize_t pos;
    CHECK(__wasi_fd_tell(fd, &pos) == 0 && pos == 11);
    CHECK(ftruncate(fd, 5) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 5 && S_ISREG(st.st_mode));
    CHECK(posix_fallocate(fd, 0, 100) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 100);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK(fsync(fd) == 0 && fdatasync(fd) == 0);
    /* timestamps: set both, read back */
    struct timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 7 } };
    CHECK(futimens(fd, ts) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000);
    CHECK(st.st_mtim.tv_nsec == 7);
    CHECK(close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);

    struct timespec now_mtime[2] = { { 0, UTIME_OMIT }, { 1300000000, 0 } };
    CHECK(utimensat(AT_FDCWD, "a.txt", now_mtime, 0) == 0);
    CHECK(stat("a.txt", &st) == 0 && st.st_mtim.tv_sec == 1300000000 && st.st_atim.tv_sec == 1000000000);

    /* O_EXCL on an existing file, O_TRUNC, O_APPEND */
    CHECK(open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) == -1 && errno == EEXIST);
    fd = open("a.txt", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "12", 2) == 2 && close(fd) == 0);
    fd = open("a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "34", 2) == 2 && close(fd) == 0);
    FILE *f = fopen("a.txt", "r");
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "1234") == 0 && fclose(f) == 0);
    CHECK(open("missing", O_RDONLY) == -1 && errno == ENOENT);
    /* a read-only descriptor cannot write */
    fd = open("a.txt", O_RDONLY);
    CHECK(fd >= 0 && write(fd, "x", 1) == -1 && errno == EBADF);
    /* fcntl: O_APPEND on, and NONBLOCK is remembered */
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
    /* fd_renumber (wasi-libc has no dup2): the old number is gone, the new
     * one reads from where the old one was */
    int fd2 = open("a.txt", O_RDONLY);
    CHECK(fd2 >= 0 && __wasi_fd_renumber(fd, fd2) == 0);
    CHECK(read(fd2, buf, 4) == 4 && memcmp(buf, "1234", 4) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);
    CHECK(close(fd2) == 0);
    /* a directory is not readable as a file: it has no FD_READ right, so
     * EBADF (as in wasmtime; Linux says EISDIR) */
    CHECK(mkdir("d", 0755) == 0);
    fd = open("d", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, 1) == -1 && errno == EBADF && close(fd) == 0);
    CHECK(open("d", O_WRONLY) == -1 && errno == EISDIR);
    CHECK(open("a.txt", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);
    CHECK(open("a.txt/", O_RDONLY) == -1 && errno == ENOTDIR);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dirs(void)
{
    CHECK(mkdir("d", 0755) == -1 && errno == EEXIST);
    CHECK(mkdir("d/sub", 0755) == 0);
    CHECK(rmdir("d") == -1 && errno == ENOTEMPTY);
    CHECK(rmdir("d/sub") == 0);
    CHECK(rmdir("d/sub") == -1 && errno == ENOENT);
    /* 200 files with long names: several fd_readdir calls with cookies */
    char name[300];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "d/entry-%03d-%0100d", i, 0);
        int fd = open(name, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0 && close(fd) == 0);
    }
    DIR *d = opendir("d");
    CHECK(d);
    char *seen[210];
    int n = 0, dots = 0;
    struct dirent *e;
    long mid = -1;
    char at_mid[300] = "";
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            continue;
        }
        CHECK(n < 200 && e->d_type == DT_REG);
        seen[n++] = strdup(e->d_name);
        if (n == 100) {
            mid = telldir(d);
            e = readdir(d);
            CHECK(e);
            strcpy(at_mid, e->d_name);
            seekdir(d, mid);     /* a cookie that is not the next one */
        }
    }
    CHECK(n == 200 && dots == 2);
    qsort(seen, (size_t)n, sizeof seen[0], cmp);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "entry-%03d-%0100d", i, 0);
        CHECK(strcmp(seen[i], name) == 0);
        free(seen[i]);
    }
    /* seekdir back to the middle gives the same entry again */
    seekdir(d, mid);
    e = readdir(d);
    CHECK(e && strcmp(e->d_name, at_mid) == 0);
    rewinddir(d);
    CHECK(readdir(d) != NULL);
    CHECK(closedir(d) == 0);
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "d/entry-%03d-%0100d", i, 0);
        CHECK(unlink(name) == 0);
    }
    CHECK(unlink("d") == -1 && errno == EISDIR);
    CHECK(rmdir("d") == 0);
}

static void links(void)
{
    CHECK(rename("a.txt", "b.txt") == 0);
    CHECK(access("a.txt", F_OK) == -1 && errno == ENOENT);
    CHECK(mkdir("dir", 0755) == 0);
    CHECK(rename("b.txt", "dir/c.txt") == 0);
    CHECK(link("dir/c.txt", "hard.txt") == 0);
    struct stat st;
    CHECK(stat("hard.txt", &st) == 0 && st.st_nlink == 2);
    CHECK(symlink("dir/c.txt", "soft") == 0);
    char buf[64] = { 0 };
    CHECK(readlink("soft", buf, sizeof buf) == 9 && memcmp(buf, "dir/c.txt", 9) == 0);
    CHECK(readlink("soft", buf, 3) == 3);              /* cut, as POSIX */
    CHECK(lstat("soft", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat("soft", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
    /* following a symlink on open, and through a symlinked directory */
    CHECK(symlink("dir", "dirlink") == 0);
    FILE *f = fopen("dirlink/c.txt", "r");
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "1234") == 0 && fclose(f) == 0);
    /* a relative link that climbs and comes back is fine */
    CHECK(symlink("../dir/c.txt", "dir/up") == 0);
    CHECK(stat("dir/up", &st) == 0 && S_ISREG(st.st_mode));
    CHECK(open("soft", O_RDONLY | O_NOFOLLOW) == -1 && errno == ELOOP);
    CHECK(unlink("soft") == 0 && unlink("dirlink") == 0 && unlink("dir/up") == 0);
    CHECK(unlink("hard.txt") == 0 && unlink("dir/c.txt") == 0 && rmdir("dir") == 0);
    CHECK(readlink("dir", buf, sizeof buf) == -1 && errno == ENOENT);
}

int main(void)
{
    files();
    dirs();
    links();
    printf("files ok\n");
    return 0;
}
