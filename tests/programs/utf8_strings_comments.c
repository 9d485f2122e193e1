/* UTF-8 in strings and comments: naïve café, 日本語 */
#include <stdio.h>
#include <string.h>
int main(void)
{
    const char *s = "héllo wörld ✓";   // ünïcödé comment
    printf("%s has %zu bytes\n", s, strlen(s));
    /* count the bytes that start a character */
    int chars = 0;
    for (const char *p = s; *p; p++) if ((*p & 0xC0) != 0x80) chars++;
    printf("%d characters\n", chars);
    return 0;
}
