/* helpers chosen per platform macro, main outside */
#include <stdio.h>
#if defined(__x86_64__) || defined(__aarch64__)
static const char *arch(void) { return "64-bit"; }
#elif defined(__i386__)
static const char *arch(void) { return "32-bit"; }
#else
static const char *arch(void) { return "unknown"; }
#endif
#ifdef __linux__
#define OS "linux"
#else
#define OS "other"
#endif
int main(void) { printf("%s %s %zu\n", arch(), OS, sizeof(void *)); return 0; }
