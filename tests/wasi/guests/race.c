/*
 * race.c - the sandbox under a concurrent attack.  While this program
 * opens "flip/secret.txt" over and over, the harness keeps exchanging the
 * directory box/flip with a symlink box/flip that points outside the box
 * (renameat2 RENAME_EXCHANGE, so one of the two is always there).  Every
 * open must either fail or read the inside file: reading the outside
 * secret even once means the resolution could be raced.
 */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
    int inside = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        int fd = open("flip/secret.txt", O_RDONLY);
        if (fd < 0) {
            refused++;
            continue;
        }
        char buf[32] = { 0 };
        CHECK(read(fd, buf, sizeof buf - 1) > 0);
        close(fd);
        CHECK(strcmp(buf, "inside\n") == 0);
        inside++;
    }
    printf("race ok\n");
    fprintf(stderr, "inside %d, refused %d\n", inside, refused);
    return 0;
}
