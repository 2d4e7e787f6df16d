/*
 * Selection on candidate lists (pm_ent, rank order = larger z first, ties to the lower index):
 * quickselect by count or by quantised mass, with a median-of-three pivot and a sort once the
 * range is small or the pivots keep failing (introselect: at most ~2 log2 n partition rounds
 * before the sort, so adversarial orders cost O(n log n), never O(n^2)). The keys (z, idx) are
 * distinct, so the outcome does not depend on the pivots, only the time does.
 */
#include <stdlib.h>

#include "infer_internal.h"

static int pm_cmp_rank(const void *pa, const void *pb)
{
    const pm_ent *a = pa, *b = pb;
    return pm_ent_before(a, b) ? -1 : pm_ent_before(b, a) ? 1 : 0;
}

static int pm_cmp_index(const void *pa, const void *pb)
{
    const pm_ent *a = pa, *b = pb;
    return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

void pm_sort_rank(pm_ent *a, int64_t n)
{
    if (n > 1) {
        qsort(a, (size_t)n, sizeof *a, pm_cmp_rank);
    }
}

void pm_sort_index(pm_ent *a, int64_t n)
{
    if (n > 1) {
        qsort(a, (size_t)n, sizeof *a, pm_cmp_index);
    }
}

static void pm_swap(pm_ent *a, int64_t i, int64_t j)
{
    pm_ent t = a[i];
    a[i] = a[j];
    a[j] = t;
}

/* Partitions a[lo, hi) around a median-of-three pivot; returns the pivot's final position p:
 * a[lo, p) ranks before it, a(p, hi) after. *mass_before gets the q sum of a[lo, p). */
static int64_t pm_partition(pm_ent *a, int64_t lo, int64_t hi, uint64_t *mass_before)
{
    int64_t mid = lo + (hi - lo) / 2, last = hi - 1;
    /* median of a[lo], a[mid], a[last] to a[last] */
    if (pm_ent_before(&a[mid], &a[lo])) {
        pm_swap(a, mid, lo);
    }
    if (pm_ent_before(&a[last], &a[lo])) {
        pm_swap(a, last, lo);
    }
    if (pm_ent_before(&a[mid], &a[last])) {
        pm_swap(a, mid, last);
    }
    const pm_ent pivot = a[last];
    int64_t i = lo;
    uint64_t mass = 0;
    for (int64_t j = lo; j < last; j++) {
        if (pm_ent_before(&a[j], &pivot)) {
            mass += a[j].q;
            pm_swap(a, i, j);
            i++;
        }
    }
    pm_swap(a, i, last);
    *mass_before = mass;
    return i;
}

static int pm_round_budget(int64_t n)
{
    int b = 8;
    while (n > 1) {
        n >>= 1;
        b += 2;
    }
    return b;
}

void pm_select_count(pm_ent *a, int64_t n, int64_t count)
{
    if (count <= 0 || count >= n) {
        return;
    }
    int64_t lo = 0, hi = n;
    int budget = pm_round_budget(n);
    while (hi - lo > 32 && budget-- > 0) {
        uint64_t ignored;
        int64_t p = pm_partition(a, lo, hi, &ignored);
        if (p == count || p + 1 == count) {
            return; /* a[0, p] are the p + 1 best; a[0, p) the p best */
        }
        if (p > count) {
            hi = p;
        } else {
            lo = p + 1;
        }
    }
    pm_sort_rank(a + lo, hi - lo);
}

int64_t pm_select_mass(pm_ent *a, int64_t n, uint64_t need)
{
    int64_t lo = 0, hi = n;
    int budget = pm_round_budget(n);
    while (hi - lo > 32 && budget-- > 0) {
        uint64_t before;
        int64_t p = pm_partition(a, lo, hi, &before);
        if (before >= need) {
            hi = p;
        } else if (before + a[p].q >= need) {
            return p;
        } else {
            need -= before + a[p].q;
            lo = p + 1;
        }
    }
    pm_sort_rank(a + lo, hi - lo);
    uint64_t acc = 0;
    for (int64_t i = lo; i < hi; i++) {
        acc += a[i].q;
        if (acc >= need) {
            return i;
        }
    }
    return hi - 1; /* need above the mass: only reachable through a caller's bug */
}
