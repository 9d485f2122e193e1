/* test_connection.c - connection.c alone: the connection files Jupyter
 * writes, the endpoints made from them, and the files that are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "connection.h"

#define GOOD "{\"shell_port\": 5001, \"iopub_port\": 5002, \"stdin_port\": 5003," \
             " \"control_port\": 5004, \"hb_port\": 5005, \"ip\": \"127.0.0.1\"," \
             " \"key\": \"a0436f6c-1916-498b-8eb9-e81ab9368e84\", \"transport\": \"tcp\"," \
             " \"signature_scheme\": \"hmac-sha256\", \"kernel_name\": \"c\"}"

static int parse(const char *text, connection *c, char *err) {
    return connection_parse(text, strlen(text), c, err, 256);
}

static void parses_tcp(void **state) {
    (void)state;
    connection c;
    char err[256], ep[300];
    assert_int_equal(parse(GOOD, &c, err), 0);
    assert_string_equal(c.transport, "tcp");
    assert_string_equal(c.ip, "127.0.0.1");
    assert_int_equal(c.port[CONN_SHELL], 5001);
    assert_int_equal(c.port[CONN_IOPUB], 5002);
    assert_int_equal(c.port[CONN_STDIN], 5003);
    assert_int_equal(c.port[CONN_CONTROL], 5004);
    assert_int_equal(c.port[CONN_HB], 5005);
    assert_string_equal(c.key, "a0436f6c-1916-498b-8eb9-e81ab9368e84");
    assert_int_equal(c.key_len, 36);
    assert_int_equal(connection_endpoint(&c, CONN_CONTROL, ep, sizeof ep), 0);
    assert_string_equal(ep, "tcp://127.0.0.1:5004");
    assert_int_equal(connection_endpoint(&c, CONN_HB, ep, 10), -1);   /* does not fit */
    connection_free(&c);
}

/* jupyter_client names ipc endpoints IP-PORT, IP being a path. */
static void parses_ipc(void **state) {
    (void)state;
    connection c;
    char err[256], ep[300];
    const char *text = "{\"transport\":\"ipc\",\"ip\":\"/tmp/kernel-1\",\"shell_port\":1,"
                       "\"iopub_port\":2,\"stdin_port\":3,\"control_port\":4,\"hb_port\":5,"
                       "\"key\":\"\",\"signature_scheme\":\"hmac-sha256\"}";
    assert_int_equal(parse(text, &c, err), 0);
    assert_int_equal(connection_endpoint(&c, CONN_IOPUB, ep, sizeof ep), 0);
    assert_string_equal(ep, "ipc:///tmp/kernel-1-2");
    assert_int_equal(c.key_len, 0);          /* empty key: no signing */
    connection_free(&c);
}

static void refuses_bad_files(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "not json",
        "[1, 2]",
        /* a port missing */
        "{\"shell_port\":1,\"iopub_port\":2,\"stdin_port\":3,\"control_port\":4,\"ip\":\"x\",\"key\":\"\"}",
        /* a port out of range, a port as a string */
        "{\"shell_port\":70000,\"iopub_port\":2,\"stdin_port\":3,\"control_port\":4,\"hb_port\":5}",
        "{\"shell_port\":\"1\",\"iopub_port\":2,\"stdin_port\":3,\"control_port\":4,\"hb_port\":5}",
        /* an unknown transport */
        "{\"transport\":\"udp\",\"shell_port\":1,\"iopub_port\":2,\"stdin_port\":3,\"control_port\":4,\"hb_port\":5}",
        /* a scheme we cannot check, with a key */
        "{\"signature_scheme\":\"hmac-md5\",\"key\":\"k\",\"shell_port\":1,\"iopub_port\":2,"
        "\"stdin_port\":3,\"control_port\":4,\"hb_port\":5}",
        /* a key that is not a string */
        "{\"key\":5,\"shell_port\":1,\"iopub_port\":2,\"stdin_port\":3,\"control_port\":4,\"hb_port\":5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        connection c;
        char err[256] = "";
        assert_int_equal(parse(bad[i], &c, err), -1);
        assert_true(strlen(err) > 0);        /* a reason for the user */
        assert_null(c.key);
    }
}

static void loads_files(void **state) {
    (void)state;
    char path[] = "/tmp/ckernel-test-conn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, GOOD, strlen(GOOD)), (ssize_t)strlen(GOOD));
    close(fd);
    connection c;
    char err[256];
    assert_int_equal(connection_load(path, &c, err, sizeof err), 0);
    assert_int_equal(c.port[CONN_HB], 5005);
    connection_free(&c);
    unlink(path);
    assert_int_equal(connection_load(path, &c, err, sizeof err), -1);   /* gone now */
    assert_non_null(strstr(err, path));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_tcp),
        cmocka_unit_test(parses_ipc),
        cmocka_unit_test(refuses_bad_files),
        cmocka_unit_test(loads_files),
    };
    return cmocka_run_group_tests_name("connection", tests, NULL, NULL);
}
