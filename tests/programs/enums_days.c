/* Enums: names, explicit values, switch, iteration, flags. */
#include <stdio.h>

enum weekday { MON, TUE, WED, THU, FRI, SAT, SUN, DAYS };

static const char *const day_name[DAYS] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

enum http_status { OK = 200, NOT_FOUND = 404, TEAPOT = 418, SERVER_ERROR = 500 };

enum perm { READ = 1 << 2, WRITE = 1 << 1, EXEC = 1 << 0 };

const char *describe(enum http_status s)
{
    switch (s) {
    case OK: return "ok";
    case NOT_FOUND: return "not found";
    case TEAPOT: return "I'm a teapot";
    default: return "something else";
    }
}

int is_weekend(enum weekday d) { return d == SAT || d == SUN; }

int main(void)
{
    for (enum weekday d = MON; d < DAYS; d++)
        printf("%d %s%s\n", d, day_name[d], is_weekend(d) ? " (weekend)" : "");
    enum http_status codes[] = {OK, TEAPOT, SERVER_ERROR, NOT_FOUND};
    for (int i = 0; i < 4; i++)
        printf("%d: %s\n", codes[i], describe(codes[i]));
    int mode = READ | EXEC;
    printf("mode %d: %c%c%c\n", mode, mode & READ ? 'r' : '-', mode & WRITE ? 'w' : '-',
           mode & EXEC ? 'x' : '-');
    printf("sizeof(enum weekday) = %zu, DAYS = %d\n", sizeof(enum weekday), DAYS);
    return 0;
}
