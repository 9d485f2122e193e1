/* an unknown pragma is ignored, and the program runs */
#include <stdio.h>
#pragma nothing_known_here
#pragma pack(push, 1)
struct packed { char c; int i; };
#pragma pack(pop)
int main(void) { printf("%zu\n", sizeof(struct packed)); return 0; }
