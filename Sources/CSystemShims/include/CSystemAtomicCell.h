// A 64-bit integer cell updated with C11 atomics, for the package's flags and
// counters (`AtomicCell` in MetadataCache wraps it). Why C: Swift's own `Atomic`
// (module Synchronization) needs macOS 15, and hosts that support macOS 13 must be
// able to link the library. C11 <stdatomic.h> has been in every toolchain for a
// decade and compiles to the same instructions.
//
// The cell is opaque and heap-allocated: an atomic needs a stable address, and
// keeping `_Atomic` out of the header keeps it out of Swift's importer (which does
// not import `_Atomic` types). Every operation is sequentially consistent: the
// callers are flags and counters, never a hot loop that would gain from weaker
// orderings, and one ordering is one thing less to get wrong.
//
// Lock-free (checked at compile time in atomic_cell.c), hence async-signal-safe:
// signal handlers load, store and exchange cells (InterruptSignals,
// CancellationToken).
#ifndef CSYSTEM_ATOMIC_CELL_H
#define CSYSTEM_ATOMIC_CELL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct csystem_atomic_cell csystem_atomic_cell;

/// A new cell holding `initial`, or NULL if memory is exhausted.
csystem_atomic_cell *csystem_atomic_cell_create(int64_t initial);
void csystem_atomic_cell_destroy(csystem_atomic_cell *cell);

int64_t csystem_atomic_cell_load(csystem_atomic_cell *cell);
void csystem_atomic_cell_store(csystem_atomic_cell *cell, int64_t value);
/// Stores `value`; returns the value it replaced.
int64_t csystem_atomic_cell_exchange(csystem_atomic_cell *cell, int64_t value);
/// Stores `desired` if the cell holds *expected and returns true; otherwise
/// writes the value found to *expected and returns false.
bool csystem_atomic_cell_compare_exchange(csystem_atomic_cell *cell, int64_t *expected, int64_t desired);
/// Adds `delta` (two's-complement wrap-around, never undefined in C11 atomics);
/// returns the value before the addition.
int64_t csystem_atomic_cell_fetch_add(csystem_atomic_cell *cell, int64_t delta);

#endif
