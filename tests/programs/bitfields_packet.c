/* bitfields laid over a header word */
#include <stdio.h>
#include <string.h>
struct header { unsigned version : 4, length : 12, type : 8, flags : 8; };
int main(void)
{
    struct header h = { 2, 1500, 17, 0x81 };
    unsigned word;
    memcpy(&word, &h, sizeof word);
    printf("%u %u %u %#x\n", h.version, h.length, h.type, h.flags);
    printf("word %#010x\n", word);
    return 0;
}
