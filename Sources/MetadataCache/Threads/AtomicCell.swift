import CSystemShims

/// A flag or counter shared between threads (and signal handlers), updated
/// atomically: what the package used Swift's `Atomic` (module Synchronization)
/// for, over C11 atomics in CSystemShims instead.
///
/// Why not `Atomic`: it needs macOS 15, and the library must link into host tools
/// that support macOS 13. Every operation is sequentially consistent (see
/// CSystemAtomicCell.h) and lock-free, so a signal handler may use a cell that
/// was created before the handler was installed.
///
/// A class, not a struct: the atomic needs one stable address for its whole life,
/// and sharing the reference is how threads share the cell.
package final class AtomicCell<Value: AtomicCellValue>: @unchecked Sendable {
    // @unchecked: `cell` is only touched through the C11 atomic operations.
    private let cell: OpaquePointer

    package init(_ initial: Value) {
        guard let cell = csystem_atomic_cell_create(initial.atomicCellBits) else {
            // Eight bytes unavailable: the process cannot go on in any useful way,
            // as with any allocation Swift makes.
            fatalError("out of memory allocating an atomic cell")
        }
        self.cell = cell
    }

    deinit { csystem_atomic_cell_destroy(cell) }

    package func load() -> Value { Value(atomicCellBits: csystem_atomic_cell_load(cell)) }

    package func store(_ value: Value) { csystem_atomic_cell_store(cell, value.atomicCellBits) }

    /// Stores `value` and returns the value it replaced.
    @discardableResult
    package func exchange(_ value: Value) -> Value {
        Value(atomicCellBits: csystem_atomic_cell_exchange(cell, value.atomicCellBits))
    }

    /// Stores `desired` if the cell holds `expected`. Returns whether it did, and
    /// the value the cell held before.
    @discardableResult
    package func compareExchange(expected: Value, desired: Value) -> (exchanged: Bool, original: Value) {
        var found = expected.atomicCellBits
        let exchanged = csystem_atomic_cell_compare_exchange(cell, &found, desired.atomicCellBits)
        return (exchanged, Value(atomicCellBits: found))
    }
}

extension AtomicCell where Value: AtomicCellCounter {
    /// Adds `delta`, wrapping around on overflow (a counter that could overflow
    /// 64 bits would have to count for centuries). Returns the values before and
    /// after.
    @discardableResult
    package func wrappingAdd(_ delta: Value) -> (oldValue: Value, newValue: Value) {
        let old = Value(atomicCellBits: csystem_atomic_cell_fetch_add(cell, delta.atomicCellBits))
        return (old, old &+ delta)
    }
}

/// A value an `AtomicCell` can hold: one that round-trips through 64 bits.
package protocol AtomicCellValue {
    init(atomicCellBits: Int64)
    var atomicCellBits: Int64 { get }
}

/// A 64-bit integer an `AtomicCell` can add to. Narrower integers are left out on
/// purpose: adding in 64 bits would not wrap where they do.
package protocol AtomicCellCounter: AtomicCellValue, FixedWidthInteger {}

extension Bool: AtomicCellValue {
    package init(atomicCellBits: Int64) { self = atomicCellBits != 0 }
    package var atomicCellBits: Int64 { self ? 1 : 0 }
}

extension Int32: AtomicCellValue {
    // Only values stored as Int32 are ever read back: the conversion is exact.
    package init(atomicCellBits: Int64) { self.init(truncatingIfNeeded: atomicCellBits) }
    package var atomicCellBits: Int64 { Int64(self) }
}

extension Int64: AtomicCellCounter {
    package init(atomicCellBits: Int64) { self = atomicCellBits }
    package var atomicCellBits: Int64 { self }
}

extension Int: AtomicCellCounter {
    // Int is 64 bits on every platform the package supports (64-bit Linux and
    // macOS), so the conversion is exact and additions wrap where Int's do.
    package init(atomicCellBits: Int64) { self.init(truncatingIfNeeded: atomicCellBits) }
    package var atomicCellBits: Int64 { Int64(self) }
}
