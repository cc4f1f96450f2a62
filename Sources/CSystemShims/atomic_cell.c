#include "CSystemAtomicCell.h"

#include <stdatomic.h>
#include <stdlib.h>

// A cell that needed a lock inside would not be safe to touch from a signal
// handler (the handler could interrupt the lock's holder): refuse to build then.
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

struct csystem_atomic_cell {
    _Atomic int64_t value;
};

csystem_atomic_cell *csystem_atomic_cell_create(int64_t initial) {
    csystem_atomic_cell *cell = malloc(sizeof *cell);
    if (cell != NULL) atomic_init(&cell->value, initial);
    return cell;
}

void csystem_atomic_cell_destroy(csystem_atomic_cell *cell) { free(cell); }

int64_t csystem_atomic_cell_load(csystem_atomic_cell *cell) { return atomic_load(&cell->value); }

void csystem_atomic_cell_store(csystem_atomic_cell *cell, int64_t value) { atomic_store(&cell->value, value); }

int64_t csystem_atomic_cell_exchange(csystem_atomic_cell *cell, int64_t value) {
    return atomic_exchange(&cell->value, value);
}

bool csystem_atomic_cell_compare_exchange(csystem_atomic_cell *cell, int64_t *expected, int64_t desired) {
    return atomic_compare_exchange_strong(&cell->value, expected, desired);
}

int64_t csystem_atomic_cell_fetch_add(csystem_atomic_cell *cell, int64_t delta) {
    return atomic_fetch_add(&cell->value, delta);
}
