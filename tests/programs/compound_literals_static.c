/* compound literals at file scope: static storage, for the whole program */
#include <stdio.h>
#include <string.h>

struct point { int x, y; };
struct node { int value; struct node *next; };

int *primes = (int[]){ 2, 3, 5, 7 };
struct point *origin = &(struct point){ 0, 0 };
char *greeting = (char[]){ "hello" };
int *rows[] = { (int[]){ 1, 2 }, (int[]){ 3, 4 } };
struct node *list = &(struct node){ 1, &(struct node){ 2, &(struct node){ 3, NULL } } };
const char *const *names = (const char *const[]){ "ann", "bob" };
struct config { const char *name; int *limits; } config = { "cfg", (int[]){ 10, 20 } };

static int *first_prime(void) { return primes; }

static void scribble(void)
{
    volatile char pad[4096];
    memset((char *)pad, 0x55, sizeof pad);
}

int main(void)
{
    scribble();
    greeting[0] = 'j';
    rows[1][0] = 30;
    origin->x = 9;
    config.limits[1] = 25;
    printf("%d %d %s %d\n", first_prime()[3], origin->x, greeting, rows[0][1] + rows[1][0]);
    for (struct node *n = list; n; n = n->next) printf("%d ", n->value);
    printf("\n%s %s %s %d\n", names[0], names[1], config.name, config.limits[0] + config.limits[1]);
    return 0;
}
