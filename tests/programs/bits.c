/* Bit manipulation: popcount, powers of two, reversing bits, masks. */
#include <stdio.h>
#include <stdint.h>

int popcount(uint32_t x)
{
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

int is_power_of_two(uint32_t x) { return x && !(x & (x - 1)); }

uint32_t reverse_bits(uint32_t x)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i++) {
        r = (r << 1) | (x & 1);
        x >>= 1;
    }
    return r;
}

void print_binary(uint8_t x)
{
    for (int i = 7; i >= 0; i--)
        putchar(x >> i & 1 ? '1' : '0');
    putchar('\n');
}

uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

int main(void)
{
    uint32_t v[] = {0, 1, 7, 255, 1024, 0xFFFFFFFFu, 0x80000001u};
    for (int i = 0; i < 7; i++)
        printf("%10u: pop %2d pow2 %d\n", v[i], popcount(v[i]), is_power_of_two(v[i]));
    printf("%08X\n", reverse_bits(1));
    printf("%08X\n", reverse_bits(0x12345678));
    print_binary(5);
    print_binary(0xA5);
    unsigned flags = 0;
    flags |= 1u << 3;
    flags |= 1u << 0;
    flags ^= 1u << 5;
    flags &= ~(1u << 0);
    printf("flags 0x%02x, bit 3 %s\n", flags, flags & (1u << 3) ? "set" : "clear");
    printf("rotl 0x%08x\n", rotl(0x80000001u, 4));
    printf("lowest set bit of 40: %u\n", 40u & -40u);
    int neg = -16;
    printf("-16 >> 2 = %d, as unsigned 0x%x\n", neg >> 2, (unsigned)neg);
    return 0;
}
