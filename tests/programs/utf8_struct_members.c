/* UTF-8 in member and type names */
#include <stdio.h>
typedef struct { int länge, höhe; } größe_t;
static int fläche(größe_t g) { return g.länge * g.höhe; }
int main(void)
{
    größe_t g = { 6, 7 };
    printf("Fläche: %d\n", fläche(g));
    return 0;
}
