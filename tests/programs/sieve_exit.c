/* The sieve of Eratosthenes; stops the program with exit(0) from a
 * helper once it has printed enough. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 100

static int printed;

void report(int p)
{
    printf("%d%c", p, ++printed % 10 ? ' ' : '\n');
    if (printed == 20) {
        printf("\nthat is enough primes\n");
        exit(0);
    }
}

int main(void)
{
    char composite[LIMIT + 1];
    memset(composite, 0, sizeof composite);
    for (int i = 2; i * i <= LIMIT; i++)
        if (!composite[i])
            for (int j = i * i; j <= LIMIT; j += i)
                composite[j] = 1;
    int count = 0;
    for (int i = 2; i <= LIMIT; i++)
        count += !composite[i];
    printf("%d primes below %d\n", count, LIMIT);
    for (int i = 2; i <= LIMIT; i++)
        if (!composite[i])
            report(i);
    printf("never printed\n");
    return 0;
}
