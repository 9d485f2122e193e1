/* a macro that defines a lookup function by cases */
#include <stdio.h>
#define NAME_OF(T, ...) static const char *T##_name(int v) { switch (v) { __VA_ARGS__ } return "?"; }
#define CASE(v, s) case v: return s;
NAME_OF(http, CASE(200, "OK") CASE(404, "Not Found") CASE(500, "Server Error"))
int main(void)
{
    int codes[] = { 200, 404, 418, 500 };
    for (int i = 0; i < 4; i++) printf("%d %s\n", codes[i], http_name(codes[i]));
    return 0;
}
