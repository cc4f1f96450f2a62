import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

extension MetacacheIntegration {
/// A refresher process whose system calls fail (the library's fault injector):
/// it must fail cleanly — the right exit status and error, the old cache byte for
/// byte, no temp file — or, for interruptions and short transfers that the
/// library must absorb, succeed with exactly the new payload.
@Suite struct InjectedFaultTests {
    struct FailureCase: CustomStringConvertible, Sendable {
        let fault: String
        let kind: String
        let errno: String
        /// The CLI contract's status: 73 when the cache cannot be created for lack
        /// of space, 74 for other I/O errors (docs/cli.md).
        let exitCode: Int32
        var lockTimeout: LockTimeout = .after(.seconds(10))
        var description: String { fault }
    }

    static let failures: [FailureCase] = [
        FailureCase(fault: "write#1=ENOSPC", kind: "io", errno: "ENOSPC", exitCode: 73),
        FailureCase(fault: "write#2=ENOSPC", kind: "io", errno: "ENOSPC", exitCode: 73),
        FailureCase(fault: "write#2=EIO", kind: "io", errno: "EIO", exitCode: 74),
        FailureCase(fault: "fsync#1=EIO", kind: "io", errno: "EIO", exitCode: 74),
        FailureCase(fault: "open@.tmp-=ENOSPC", kind: "io", errno: "ENOSPC", exitCode: 73),
        FailureCase(fault: "rename@.tmp-=EXDEV", kind: "io", errno: "EXDEV", exitCode: 74),
        FailureCase(fault: "rename@.tmp-=EIO", kind: "io", errno: "EIO", exitCode: 74),
        // A transient failure that never clears: retried with backoff, but only
        // within what is left of the lock timeout, then reported.
        FailureCase(
            fault: "rename#*@.tmp-=EBUSY", kind: "io", errno: "EBUSY", exitCode: 74, lockTimeout: .after(.milliseconds(400))),
        FailureCase(fault: "availableBytes#*=report:4096", kind: "insufficientSpace", errno: "-", exitCode: 73),
    ]

    @Test(arguments: failures)
    func aFailedCommitExitsWithTheCLIsStatusAndLeavesTheOldCacheAndNoTemp(failure: FailureCase) async throws {
        let dir = TemporaryDirectory("fault")
        let old = CommitOnceChild(directory: dir.path, sequence: 1)
        #expect(try await old.run().exitCode == 0)
        let before = try #require(CacheDirectoryState(dir.path).cacheFile)

        let faulty = CommitOnceChild(directory: dir.path, sequence: 2, faults: [failure.fault], lockTimeout: failure.lockTimeout)
        let result = try await faulty.run()
        #expect(result.exitCode == failure.exitCode, "\(failure): \(result.termination) \(result.stdoutText)")
        #expect(CommitOnceChild.Verdict(result) == .failed(kind: failure.kind, errno: failure.errno), "\(result.stdoutText)")
        #expect(result.stdoutText.contains(dir.path), "the error names the path: \(result.stdoutText)")
        // The failure is the injected one: a fault aimed at one call fired once,
        // one aimed at every matching call at least once.
        let fired = CommitOnceChild.firedFaults(result)
        if failure.fault.contains("#*") {
            #expect((fired ?? 0) >= 1, "\(failure): no fault fired: \(result.stdoutText)")
        } else {
            #expect(fired == 1, "\(failure): \(result.stdoutText)")
        }

        let after = CacheDirectoryState(dir.path)
        #expect(after.cacheFile == before, "the old cache changed")
        #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
        let intact = try after.verifiedPayload() == old.expectedPayload
        #expect(intact, "the old payload does not read back")
    }

    /// A fault every matching call meets, and what its firing count must show.
    struct AbsorbedCase: CustomStringConvertible, Sendable {
        let fault: String
        /// `eintr:N`: each matching call failed exactly N times before going
        /// through, so the count is a positive multiple of N.
        var interruptsPerCall: Int?
        /// `short:N`: every write of the 64 KiB payload moved at most N bytes, so
        /// at least this many writes were cut short.
        var minimumShortWrites: Int?
        var description: String { fault }
    }

    static let absorbed: [AbsorbedCase] = [
        AbsorbedCase(fault: "write#*=eintr:50", interruptsPerCall: 50),
        AbsorbedCase(fault: "fsync#*=eintr:50", interruptsPerCall: 50),
        AbsorbedCase(fault: "rename#*=eintr:50", interruptsPerCall: 50),
        AbsorbedCase(fault: "open#*@.tmp-=eintr:50", interruptsPerCall: 50),
        AbsorbedCase(fault: "fsyncDirectory#*=eintr:50", interruptsPerCall: 50),
        AbsorbedCase(fault: "flock#*=eintr:50", interruptsPerCall: 50),
        AbsorbedCase(fault: "write#*=short:7", minimumShortWrites: (64 << 10) / 7),
        AbsorbedCase(fault: "write#*=short:1000", minimumShortWrites: (64 << 10) / 1000),
    ]

    @Test(arguments: absorbed)
    func interruptionsAndShortWritesAreRetriedUntilTheCommitSucceeds(absorbed: AbsorbedCase) async throws {
        let fault = absorbed.fault
        let dir = TemporaryDirectory("absorb")
        #expect(try await CommitOnceChild(directory: dir.path, sequence: 1).run().exitCode == 0)
        let child = CommitOnceChild(directory: dir.path, sequence: 2, faults: [fault])
        let result = try await child.run()
        #expect(result.exitCode == 0, "\(fault): \(result.termination) \(result.stdoutText) \(result.stderr)")
        #expect(CommitOnceChild.Verdict(result) == .committed(generation: 2))
        // The commit met the faults, it did not miss them.
        let fired = try #require(CommitOnceChild.firedFaults(result), "\(result.stdoutText)")
        if let perCall = absorbed.interruptsPerCall {
            #expect(fired >= perCall && fired % perCall == 0, "\(fault): \(fired) EINTRs fired")
        }
        if let minimum = absorbed.minimumShortWrites {
            #expect(fired >= minimum, "\(fault): only \(fired) short writes")
        }
        let after = CacheDirectoryState(dir.path)
        let exact = try after.verifiedPayload() == child.expectedPayload
        #expect(exact, "the cache is not exactly the new payload")
        #expect(after.temps.isEmpty)
    }
}
}
