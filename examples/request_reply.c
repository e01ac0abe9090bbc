/*
 * request_reply.c - a request/reply client with a timeout (the lunatic
 * 0.14 mailbox from C, include/lunatic14.h).
 *
 *     lvm run examples/request_reply.wasm
 *
 * A request is sent with send_receive_skip_search, which waits only for
 * the reply that comes after it (a reply tag the caller picks, as the
 * crate's Tag::new()), for at most a timeout.  One server answers; the
 * other never does, and the client gets 9027 (timeout) instead of
 * hanging.
 */
#include <stdio.h>
#include <string.h>

#include "../include/lunatic14.h"

static void echo_upper(int32_t unused)
{
    for (;;) {
        char buf[64];
        uint32_t len;
        int64_t tag;
        lun_recv(NULL, 0, LUN_FOREVER, buf, sizeof buf, &len, &tag);
        /* The request: the sender's pid, then the text. */
        uint64_t from;
        memcpy(&from, buf, 8);
        for (uint32_t i = 8; i < len; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] -= 32;
        lun_send(from, tag, buf + 8, len - 8);      /* the reply carries the tag */
    }
}

static void silent(int32_t unused)
{
    lunatic_sleep_ms(60000);
}

static void ask(uint64_t server, int64_t tag, const char *text)
{
    char req[64], reply[64];
    uint64_t me = lunatic_process_id();
    memcpy(req, &me, 8);
    size_t n = strlen(text);
    memcpy(req + 8, text, n);
    uint32_t len;
    uint32_t r = lun_request(server, tag, req, (uint32_t)(8 + n), tag, 200, reply, sizeof reply, &len);
    if (r == LUN_TIMEOUT)
        printf("request '%s': no reply within 200 ms (%u)\n", text, r);
    else
        printf("request '%s': reply '%.*s'\n", text, (int)len, reply);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* lines in order with the children\'s */
    uint64_t good, quiet;
    lun_spawn(echo_upper, 0, 0, &good);
    lun_spawn(silent, 0, 0, &quiet);
    ask(good, 129, "hello");
    ask(good, 130, "lunatic");
    ask(quiet, 131, "anyone?");
    lunatic_kill(quiet);
    return 0;
}
