/* Parse the command line by hand (no getopt): -n COUNT, -v, --name=NAME,
 * then positional words. Run with %args. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char *argv[])
{
    int count = 1, verbose = 0;
    const char *name = "world";
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (strncmp(argv[i], "--name=", 7) == 0)
            name = argv[i] + 7;
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (verbose)
        printf("argc = %d, count = %d, name = %s\n", argc, count, name);
    for (int k = 0; k < count; k++)
        printf("hello, %s (%d)\n", name, k + 1);
    for (; i < argc; i++)
        printf("positional: %s\n", argv[i]);
    return 0;
}
