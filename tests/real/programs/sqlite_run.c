/*
 * sqlite_run.c - runs SQL through the SQLite amalgamation and prints what
 * it returns: the driver of the SQLite real-program test and benchmark
 * (the npm package that ships the amalgamation has no shell.c).
 *
 *   sqlite_run [DATABASE] < FILE.sql
 *
 * Reads all of stdin, then prepares and steps one statement after another
 * (sqlite3_prepare_v2 with its tail pointer), printing each result row as
 * its columns' text joined by '|' (NULL as "NULL"), as the sqlite3 shell's
 * list mode does; each statement that changed rows prints "changes: N".
 * DATABASE defaults to ":memory:".
 *
 * The first failing statement prints "error at line L: MESSAGE" to stderr
 * and the program exits 1 (2 if stdin cannot be read).  Lines are counted
 * from the start of the input, so the message names where the bad
 * statement begins.
 */
#include "sqlite3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        char *grown = realloc(buf, cap);
        if (!grown)
            free(buf);
        buf = grown;
    }
    if (!buf || ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int line_of(const char *start, const char *at)
{
    int line = 1;
    for (const char *p = start; p < at; p++)
        line += *p == '\n';
    return line;
}

int main(int argc, char **argv)
{
    size_t len;
    char *sql = read_all(stdin, &len);
    if (!sql) {
        fprintf(stderr, "sqlite_run: cannot read stdin\n");
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open(argc > 1 ? argv[1] : ":memory:", &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_run: cannot open database: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    int status = 0;
    const char *next = sql;
    while (*next) {
        const char *start = next;
        while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
            start++;
        sqlite3_stmt *stmt;
        if (sqlite3_prepare_v2(db, start, -1, &stmt, &next) != SQLITE_OK) {
            fprintf(stderr, "error at line %d: %s\n", line_of(sql, start), sqlite3_errmsg(db));
            status = 1;
            break;
        }
        if (!stmt) /* only a comment or white space was left */
            continue;
        int rc, ncol = sqlite3_column_count(stmt);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            for (int i = 0; i < ncol; i++) {
                const unsigned char *text = sqlite3_column_text(stmt, i);
                printf("%s%s", i ? "|" : "", text ? (const char *)text : "NULL");
            }
            putchar('\n');
        }
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "error at line %d: %s\n", line_of(sql, start), sqlite3_errmsg(db));
            sqlite3_finalize(stmt);
            status = 1;
            break;
        }
        if (ncol == 0 && !sqlite3_stmt_readonly(stmt))
            printf("changes: %d\n", sqlite3_changes(db));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    free(sql);
    return status;
}
