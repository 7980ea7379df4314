/* A C workload for the core-vs-QEMU comparison: insertion sort, quicksort,
   CRC-32 (bitwise), a multiply/divide mix (libgcc on rv32i), recursion and
   a switch table; all results stay in globals the harness dumps. */
#include <stdint.h>

int main(void);

static uint32_t rng_state = 0x12345678u;
static uint32_t xorshift(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

int32_t data_a[64];
int32_t data_b[64];
uint32_t crc_out[4];
int32_t arith_out[64];
uint32_t misc_out[16];

static void insertion_sort(int32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quick_sort(int32_t *a, int lo, int hi)
{
    if (lo >= hi)
        return;
    int32_t p = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
        while (a[i] < p) i++;
        while (a[j] > p) j--;
        if (i <= j) {
            int32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
    }
    quick_sort(a, lo, j);
    quick_sort(a, i, hi);
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static uint32_t classify(uint32_t v)
{
    switch (v % 9) {
    case 0: return v ^ 0x55u;
    case 1: return v + 7u;
    case 2: return v << 3;
    case 3: return v >> 2;
    case 4: return ~v;
    case 5: return v * 3u;
    case 6: return (uint32_t)((int32_t)v >> 5);
    case 7: return v & 0xf0f0u;
    default: return 0x1234u;
    }
}

int main(void)
{
    for (int i = 0; i < 64; i++) {
        data_a[i] = (int32_t)xorshift();
        data_b[i] = data_a[i];
    }
    insertion_sort(data_a, 64);
    quick_sort(data_b, 0, 63);
    crc_out[0] = crc32((const uint8_t *)data_a, sizeof data_a);
    crc_out[1] = crc32((const uint8_t *)"123456789", 9);   /* 0xcbf43926 */
    crc_out[2] = crc32((const uint8_t *)data_b, 61);        /* unaligned tail */
    for (int i = 0; i < 16; i++) {
        int32_t x = (int32_t)xorshift();
        int32_t y = (int32_t)(xorshift() >> (i & 15)) | 1;
        arith_out[4 * i + 0] = x * y;
        arith_out[4 * i + 1] = x / y;
        arith_out[4 * i + 2] = (int32_t)((uint32_t)x % (uint32_t)y);
        arith_out[4 * i + 3] = x % y;
    }
    for (int i = 0; i < 12; i++)
        misc_out[i] = classify(xorshift());
    misc_out[12] = fib(15);
    uint8_t bytes[7] = {1, 2, 3, 4, 5, 6, 7};
    uint16_t halves[3];
    for (int i = 0; i < 3; i++)
        halves[i] = (uint16_t)(bytes[2 * i] | bytes[2 * i + 1] << 8);
    misc_out[13] = halves[0] + halves[1] * 3u + halves[2] * 5u;
    return (int)crc_out[1];
}
