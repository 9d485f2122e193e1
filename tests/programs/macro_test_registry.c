/* a little test framework made of macros that define functions */
#include <stdio.h>
#define TEST(name) static int test_##name(void)
#define CHECK(cond) do { if (!(cond)) { printf("  failed: %s\n", #cond); return 0; } } while (0)
TEST(addition) { CHECK(1 + 1 == 2); return 1; }
TEST(strings) { CHECK(sizeof "abc" == 4); return 1; }
TEST(broken) { CHECK(2 * 2 == 5); return 1; }
int main(void)
{
    struct { const char *name; int (*fn)(void); } tests[] = {
        { "addition", test_addition }, { "strings", test_strings }, { "broken", test_broken },
    };
    int passed = 0;
    for (int i = 0; i < 3; i++) {
        printf("%s\n", tests[i].name);
        passed += tests[i].fn();
    }
    printf("%d/3 passed\n", passed);
    return passed == 3 ? 0 : 1;
}
