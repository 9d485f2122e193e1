/* variadic macros and __VA_ARGS__ */
#include <stdio.h>
#define LOG(fmt, ...) printf("[log] " fmt "\n", __VA_ARGS__)
#define COUNT(...) (sizeof((int[]){__VA_ARGS__}) / sizeof(int))
int main(void)
{
    LOG("%d + %d = %d", 2, 3, 5);
    LOG("%s", "done");
    printf("%zu\n", COUNT(4, 5, 6, 7));
    return 0;
}
