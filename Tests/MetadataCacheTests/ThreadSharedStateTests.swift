import Foundation
import Testing
import TestSupport
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `LockedValue` and `AtomicCell`, the package's replacements for Swift's `Mutex`
/// and `Atomic` (which need macOS 15): their single-threaded contract, and that
/// they hold under real threads racing.
///
/// The racing tests make the race likely rather than hope for it: all threads
/// wait at a start line, and each increment is a read, a `sched_yield`, then a
/// write, so another thread almost surely runs in between. The controls run the
/// same read-yield-write with no lock and must lose updates (or see two threads
/// inside at once); if a control stopped catching that, the racing test would
/// prove nothing.
@Suite struct ThreadSharedStateTests {
    static let threads = 4
    static let rounds = 2_000

    // MARK: LockedValue

    @Test func withLockHandsTheValueInoutAndReturnsTheBodysResult() {
        let shared = LockedValue([1, 2])
        let count = shared.withLock { value -> Int in
            value.append(3)
            return value.count
        }
        #expect(count == 3)
        #expect(shared.withLock { $0 } == [1, 2, 3])
    }

    struct Refusal: Error, Equatable { let code: Int }

    @Test func aTypedErrorFromTheBodyPassesThroughAndTheLockIsReleased() {
        let shared = LockedValue(0)
        #expect(throws: Refusal(code: 7)) {
            try shared.withLock { (value: inout Int) throws(Refusal) -> Void in
                value = 1
                throw Refusal(code: 7)
            }
        }
        // The change made before the throw stays, and the lock is free again
        // (a lock left held would deadlock here).
        #expect(shared.withLock { $0 } == 1)
    }

    @Test func racingThreadsNeverOverlapInsideTheLockAndLoseNoIncrement() async throws {
        let shared = LockedValue(0)
        let inside = AtomicCell<Int>(0)
        let mostInside = AtomicCell<Int>(0)
        try await Self.race { _ in
            shared.withLock { value in
                Self.noteEntry(inside, mostInside)
                let read = value
                sched_yield()
                value = read + 1
                inside.wrappingAdd(-1)
            }
        }
        #expect(shared.withLock { $0 } == Self.threads * Self.rounds)
        #expect(mostInside.load() == 1)
    }

    /// Control: the same read-yield-write with no lock overlaps and loses updates.
    @Test func controlWithoutTheLockThreadsOverlapAndLoseIncrements() async throws {
        let unlocked = AtomicCell<Int>(0)
        let inside = AtomicCell<Int>(0)
        let mostInside = AtomicCell<Int>(0)
        try await Self.race { _ in
            Self.noteEntry(inside, mostInside)
            let read = unlocked.load()
            sched_yield()
            unlocked.store(read + 1)
            inside.wrappingAdd(-1)
        }
        #expect(unlocked.load() < Self.threads * Self.rounds)
        #expect(mostInside.load() > 1)
    }

    // MARK: AtomicCell

    @Test func exchangeReturnsTheReplacedValue() {
        let flag = AtomicCell(false)
        #expect(flag.exchange(true) == false)
        #expect(flag.exchange(true) == true)
        #expect(flag.load() == true)
    }

    @Test func compareExchangeStoresOnlyOnAMatchAndReportsWhatItFound() {
        let cell = AtomicCell<Int32>(-5)
        let miss = cell.compareExchange(expected: 0, desired: 9)
        #expect(!miss.exchanged)
        #expect(miss.original == -5)
        #expect(cell.load() == -5)
        let hit = cell.compareExchange(expected: -5, desired: Int32.min)
        #expect(hit.exchanged)
        #expect(hit.original == -5)
        #expect(cell.load() == Int32.min)
    }

    @Test func storedValuesRoundTripAtTheirExtremes() {
        let int32 = AtomicCell<Int32>(Int32.max)
        #expect(int32.load() == Int32.max)
        int32.store(Int32.min)
        #expect(int32.load() == Int32.min)
        let int64 = AtomicCell<Int64>(Int64.min)
        #expect(int64.load() == Int64.min)
        let int = AtomicCell<Int>(-1)
        #expect(int.load() == -1)
    }

    @Test func wrappingAddReportsBothValuesAndWrapsAtTheTop() {
        let counter = AtomicCell<Int64>(Int64.max - 1)
        let first = counter.wrappingAdd(1)
        #expect(first.oldValue == Int64.max - 1)
        #expect(first.newValue == Int64.max)
        let second = counter.wrappingAdd(1)
        #expect(second.newValue == Int64.min)
        #expect(counter.load() == Int64.min)
    }

    @Test func racingWrappingAddsLoseNoIncrement() async throws {
        let counter = AtomicCell<Int>(0)
        let inconsistent = AtomicCell<Int>(0)
        try await Self.race { _ in
            let (old, new) = counter.wrappingAdd(1)
            if new != old + 1 { inconsistent.wrappingAdd(1) }
            sched_yield()
        }
        #expect(counter.load() == Self.threads * Self.rounds)
        #expect(inconsistent.load() == 0)
    }

    /// Only one thread of a race wins the exchange from false to true (the
    /// once-only guard `HeldWriterLock.release` and `LeaseRenewal.stop` rely on).
    @Test func racingExchangesHaveExactlyOneWinnerPerRound() async throws {
        let flags = (0..<Self.rounds).map { _ in AtomicCell(false) }
        let wins = AtomicCell<Int>(0)
        try await Self.race { round in
            if !flags[round].exchange(true) { wins.wrappingAdd(1) }
        }
        #expect(wins.load() == Self.rounds)
    }

    // MARK: Racing

    private static func noteEntry(_ inside: AtomicCell<Int>, _ mostInside: AtomicCell<Int>) {
        let now = inside.wrappingAdd(1).newValue
        var most = mostInside.load()
        while now > most {
            let attempt = mostInside.compareExchange(expected: most, desired: now)
            if attempt.exchanged { break }
            most = attempt.original
        }
    }

    /// Runs `round(index)` for every round on each of `threads` operating-system
    /// threads (not the concurrency pool, which would serialise them on a
    /// two-core machine), all released together from a start line.
    private static func race(_ round: @escaping @Sendable (Int) -> Void) async throws {
        let arrived = AtomicCell<Int>(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    try await BlockingWork.run {
                        arrived.wrappingAdd(1)
                        while arrived.load() < threads { sched_yield() }
                        for index in 0..<rounds { round(index) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
