/*
 * lua_wasi.c - the two C library functions Lua calls that wasi-libc
 * leaves out, for Lua's wasm32-wasi build: WASI can start no command and
 * has no temporary-file directory.  They fail the way the C standard lets
 * them, so os.execute and io.tmpfile report an error to the script.
 */
#include <errno.h>
#include <stddef.h>

typedef struct _IO_FILE FILE;

FILE *tmpfile(void);
int system(const char *command);

FILE *tmpfile(void)
{
    errno = ENOTSUP;
    return NULL;
}

/* system(NULL) asks whether a command processor exists: none. */
int system(const char *command)
{
    if (command == NULL)
        return 0;
    errno = ENOSYS;
    return -1;
}
