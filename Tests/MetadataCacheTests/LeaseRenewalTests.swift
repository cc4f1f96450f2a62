import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// The lock-file holder's lease renewal (issue 17 item 5): signals do not end it,
/// stopping it never raises SIGPIPE, and a renewal that fails is reported and
/// stops commits once the lease can no longer be vouched for.
@Suite struct LeaseRenewalTests {
    func modificationTime(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// A real holder whose other threads (the renewal thread among them, asleep in
    /// its `poll` after a first renewal) have their system calls interrupted by a
    /// signal without SA_RESTART, five times. Version 1's
    /// renewal loop (`while poll(...) == 0`) ended on the EINTR; its release then
    /// wrote the stop byte into a pipe whose reader had gone, and SIGPIPE killed
    /// the process before it removed its owner file.
    @Test func aSignalDoesNotEndRenewalAndReleaseNeverRaisesSIGPIPE() throws {
        let directory = TemporaryDirectory("renewal-eintr")
        let holder = try Agent.start(["hold-signalled", "--dir", directory.path, "--backend", "lockfile", "--lease-ms", "300"])
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let signalled = try holder.readLine(until: { $0.hasPrefix("SIGNALLED") })
        let delivered = Int(signalled.field("delivered") ?? "") ?? 0
        let threads = Int(signalled.field("threads") ?? "") ?? 0
        #expect(threads >= 2 && delivered == 5 * (threads - 1), "every thread but main must have been interrupted, five times: \(signalled)")

        // Renewal goes on: the owner file's mtime changes after the signals.
        let owner = directory.file("metadata.lock.owner")
        let before = try #require(modificationTime(owner))
        let deadline = ContinuousClock.now + .seconds(10)
        var renewed = false
        while ContinuousClock.now < deadline, !renewed {
            renewed = (modificationTime(owner) ?? before) > before
            if !renewed { _ = poll(nil, 0, 20) }
        }
        #expect(renewed, "the lease was not renewed after the signal")

        holder.closeStdin()
        let rest = try holder.remainingLines()
        #expect(try holder.wait() == .exited(0), "release must not die of SIGPIPE: \(rest)")
        #expect(rest.contains("RELEASED"))
        #expect(!directory.listing().contains("metadata.lock.owner"), "the owner file was left behind")
    }

    /// Renewal that keeps failing (every `touch` fails with EIO): the holder hears
    /// of it (`leaseRenewalFailed`, once) and, where only the owner file excludes
    /// (no `flock`), a commit after half a lease without renewal fails with
    /// `lockLost` instead of committing under a lease that may have been presumed
    /// expired. Where the `flock` on a local filesystem excludes every writer, the
    /// lease does not matter and the commit goes ahead.
    @Test(arguments: [false, true])
    func aRenewalThatKeepsFailingIsReportedAndStopsCommitsWithoutFlock(flockWorks: Bool) async throws {
        var faults = [InjectedFault(.touch, occurrence: nil, action: .fail(.ioError))]
        if !flockWorks { faults.append(InjectedFault(.flock, occurrence: nil, action: .fail(.noLocks))) }
        let t = try TestStore("renewal-fails", backend: .lockFile, faults: faults) { $0.leaseDuration = .milliseconds(300) }
        let acquiredAt = ContinuousClock.now
        let writer = try await t.store.acquireWriterLock()
        await t.events.waitFor("leaseRenewalFailed")
        // Time, not synchronisation: the lease must have gone unrenewed for more
        // than half of it (150 ms) since the acquisition, its last renewal.
        let lapse = acquiredAt + .milliseconds(200) - ContinuousClock.now
        if lapse > .zero { try await Task.sleep(for: lapse) }
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(samplePayload) }
        writer.release()
        #expect(t.events.names().filter { $0 == "leaseRenewalFailed" }.count == 1, "reported once: \(t.events.names())")
        if flockWorks {
            #expect((try? outcome.get()) != nil, "\(outcome)")
            return
        }
        guard case let .failure(.lockLost(_, reason)) = outcome else {
            Issue.record("expected lockLost, got \(outcome)")
            return
        }
        #expect(reason.contains("renewal failed"), "\(reason)")
        #expect(t.cacheBytes == nil, "nothing was committed")
        #expect(t.tempFiles.isEmpty)
    }
}
