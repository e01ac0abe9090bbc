/*
 * fds.c - opens DIR/f (argv[1]) again and again without closing, until an
 * open fails, and prints how many it got and the errno; then closes them
 * all and checks that an open works again (the budget is given back).
 * Exits with 3, a failure, so that lvm says which limit refused it.
 */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

#define MOST 100000

static int fds[MOST];

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    char path[256];
    snprintf(path, sizeof path, "%s/f", argv[1]);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(close(fd) == 0);
    int n = 0;
    while (n < MOST && (fds[n] = open(path, O_RDONLY)) >= 0)
        n++;
    CHECK(n < MOST);
    printf("opened %d then %s\n", n, errno == EMFILE ? "EMFILE" : errno == ENFILE ? "ENFILE"
                                                                  : strerror(errno));
    for (int i = 0; i < n; i++)
        CHECK(close(fds[i]) == 0);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    printf("after closing: open works\n");
    return 3;
}
