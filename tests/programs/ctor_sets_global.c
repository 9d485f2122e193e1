/* a constructor initialises what main uses */
#include <stdio.h>
static int table[10];
static void fill(void) __attribute__((constructor));
static void fill(void) { for (int i = 0; i < 10; i++) table[i] = i * i; }
int main(void) { printf("%d %d\n", table[3], table[9]); return 0; }
