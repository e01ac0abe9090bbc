/*
 * sort.c - sorting 32-bit integers three ways.
 *
 * What it stresses: branchy, memory-bound code: compare-and-swap on array
 * elements, recursion (quicksort), index arithmetic (heapsort's parent and
 * child), and short inner loops (insertion sort below a cutoff).  Each
 * result is checked to be sorted and folded into the checksum.
 */
#include "common.h"

#define N 20000

static int32_t data[N], work[N];

static inline void swap(int32_t *a, int32_t *b)
{
    int32_t t = *a;
    *a = *b;
    *b = t;
}

static NOINLINE void insertion_sort(int32_t *a, int n)
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

/* Hoare partition around the median of three; recurses on the smaller
 * side so the depth stays O(log n). */
static NOINLINE void quick_sort(int32_t *a, int n)
{
    while (n > 16) {
        int32_t x = a[0], y = a[n / 2], z = a[n - 1];
        int32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = -1, j = n;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (a[j] > pivot);
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
        }
        int left = j + 1;
        if (left < n - left) {
            quick_sort(a, left);
            a += left;
            n -= left;
        } else {
            quick_sort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

static void sift_down(int32_t *a, int root, int n)
{
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[root] >= a[child])
            return;
        swap(&a[root], &a[child]);
        root = child;
    }
}

static NOINLINE void heap_sort(int32_t *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        swap(&a[0], &a[end]);
        sift_down(a, 0, end);
    }
}

static uint64_t digest(const int32_t *a, int n)
{
    uint64_t h = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && a[i - 1] > a[i])
            return 0xbad;       /* not sorted: the checksum will differ */
        h = h * 31 + (uint32_t)a[i];
    }
    return h;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 4);
    uint64_t h = 0;
    uint32_t s = 2463534242u;
    for (int r = 0; r < scale; r++) {
        for (int i = 0; i < N; i++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            /* A few duplicates and a narrow range: realistic partitions. */
            data[i] = (int32_t)(s % 50000u) - 25000;
        }
        for (int k = 0; k < 6; k++) {
            memcpy(work, data, sizeof data);
            quick_sort(work, N);
            h = bench_mix(h, digest(work, N));
            memcpy(work, data, sizeof data);
            heap_sort(work, N);
            h = bench_mix(h, digest(work, N));
            data[k] ^= 1;
        }
        memcpy(work, data, 2000 * sizeof data[0]);
        insertion_sort(work, 2000);
        h = bench_mix(h, digest(work, 2000));
    }
    bench_report("sort", h);
    return 0;
}
