/* String handling: reverse in place, palindromes, word count, tokens,
 * case mapping, searching. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>

void reverse(char *s)
{
    for (size_t i = 0, j = strlen(s); i + 1 < j; i++, j--) {
        char t = s[i];
        s[i] = s[j - 1];
        s[j - 1] = t;
    }
}

int is_palindrome(const char *s)
{
    const char *e = s + strlen(s);
    while (s < e) {
        if (!isalnum((unsigned char)*s)) { s++; continue; }
        if (!isalnum((unsigned char)e[-1])) { e--; continue; }
        if (tolower((unsigned char)*s++) != tolower((unsigned char)*--e))
            return 0;
    }
    return 1;
}

int count_words(const char *s)
{
    int n = 0, in = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s))
            in = 0;
        else if (!in) {
            in = 1;
            n++;
        }
    }
    return n;
}

int main(void)
{
    char word[] = "stressed";
    reverse(word);
    printf("%s\n", word);

    const char *tests[] = {"A man, a plan, a canal: Panama", "hello", "Was it a car or a cat I saw?"};
    for (int i = 0; i < 3; i++)
        printf("%d \"%s\"\n", is_palindrome(tests[i]), tests[i]);

    printf("%d words\n", count_words("  the quick  brown\tfox\njumps "));

    char csv[] = "red,green,,blue";
    for (char *tok = strtok(csv, ","); tok; tok = strtok(NULL, ","))
        printf("<%s>", tok);
    printf("\n");

    char shout[32];
    snprintf(shout, sizeof shout, "%s!", "quiet please");
    for (char *p = shout; *p; p++)
        *p = toupper((unsigned char)*p);
    puts(shout);

    const char *hay = "the cat sat on the mat";
    const char *at = strstr(hay, "sat");
    printf("found at %ld, rest \"%s\"\n", (long)(at - hay), at);
    printf("last t at %ld\n", (long)(strrchr(hay, 't') - hay));
    printf("strcmp sign %d %d %d\n", strcmp("abc", "abd") < 0, strcmp("b", "a") > 0, strcmp("x", "x"));
    char buf[8];
    strncpy(buf, "truncate me", sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    printf("[%s] %zu\n", buf, strlen(buf));
    return 0;
}
