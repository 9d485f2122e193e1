/* Static locals keep their value between calls; a static global is
 * private to the file. */
#include <stdio.h>

static int total_calls;

int next_id(void)
{
    static int id = 100;
    total_calls++;
    return id++;
}

const char *ordinal(int n)
{
    static char buf[16];
    const char *suffix = "th";
    if (n % 100 < 11 || n % 100 > 13) {
        if (n % 10 == 1) suffix = "st";
        else if (n % 10 == 2) suffix = "nd";
        else if (n % 10 == 3) suffix = "rd";
    }
    snprintf(buf, sizeof buf, "%d%s", n, suffix);
    return buf;
}

int running_average(int x, double *avg)
{
    static int n;
    static double sum;
    sum += x;
    *avg = sum / ++n;
    return n;
}

int main(void)
{
    for (int i = 0; i < 3; i++)
        printf("id %d\n", next_id());
    int ns[] = {1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 112};
    for (int i = 0; i < 12; i++)
        printf("%s ", ordinal(ns[i]));
    printf("\n");
    double avg;
    int xs[] = {10, 20, 60};
    for (int i = 0; i < 3; i++) {
        int n = running_average(xs[i], &avg);
        printf("after %d: %.2f\n", n, avg);
    }
    printf("next_id called %d times\n", total_calls);
    return 0;
}
