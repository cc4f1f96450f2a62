import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// The commit protocol under injected failures: whatever step fails, the previous
/// cache stays byte-for-byte intact and no temp file is left behind.
@Suite struct DurableCommitTests {
    /// A store whose directory already holds a committed cache (written without
    /// faults), and whose own system calls follow `faults`.
    func storeWithPreviousCache(_ faults: [InjectedFault], configure: (inout CacheStoreOptions) -> Void = { _ in })
        throws -> (TestStore, Data)
    {
        let t = try TestStore("commit", faults: faults, configure: configure)
        let previous = try t.plain()
        try previous.acquireWriterLock().commit(samplePayload, source: "previous")
        return (t, try #require(t.cacheBytes))
    }

    static let newPayload = Data(#"{"packages":[],"note":"new"}"#.utf8)

    struct FailureCase: CustomStringConvertible, Sendable {
        let fault: String
        let expectedErrno: Errno?
        var description: String { fault }
    }

    static let failures: [FailureCase] = [
        FailureCase(fault: "open@.tmp-=EACCES", expectedErrno: .permissionDenied),
        FailureCase(fault: "open@.tmp-=ENOSPC", expectedErrno: .noSpace),
        FailureCase(fault: "write#1=ENOSPC", expectedErrno: .noSpace),
        FailureCase(fault: "write#2=ENOSPC", expectedErrno: .noSpace),
        FailureCase(fault: "write#2=EIO", expectedErrno: .ioError),
        FailureCase(fault: "fsync=EIO", expectedErrno: .ioError),
        // close #1 is the read of the previous header (for the generation); #2 is
        // the temp file's close after fsync, where NFS reports deferred errors.
        // (Numbered at run time: the directory walk closes a descriptor per level.)
        FailureCase(fault: "close#TEMP=EIO", expectedErrno: .ioError),
        FailureCase(fault: "rename=EXDEV", expectedErrno: Errno(rawValue: EXDEV)),
        FailureCase(fault: "rename=ENOSPC", expectedErrno: .noSpace),
    ]

    @Test(arguments: failures)
    func aFailureAtAnyStepLeavesThePreviousCacheIntactAndNoTemp(failure: FailureCase) throws {
        var fault = failure.fault
        if fault.contains("#TEMP") {
            // The close right after the temp file's fsync.
            let n = try TestStore.occurrence(of: "close", after: { $0 == "fsync" }) { t in
                try t.plain().acquireWriterLock().commit(samplePayload)
                try t.store.acquireWriterLock().commit(Self.newPayload)
            }
            fault = fault.replacingOccurrences(of: "#TEMP", with: "#\(n)")
        }
        let (t, before) = try storeWithPreviousCache([try #require(InjectedFault.parse(fault))])
        let writer = try t.store.acquireWriterLock()
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Self.newPayload) }
        guard case let .failure(error) = outcome else {
            Issue.record("commit succeeded despite \(failure.fault)")
            return
        }
        #expect(error.errno == failure.expectedErrno, "\(error)")
        #expect(error.description.contains(t.directory.path), "the error names the path: \(error)")
        #expect(t.cacheBytes == before, "previous cache changed")
        #expect(t.tempFiles.isEmpty, "temp left behind: \(t.tempFiles)")
        #expect(t.events.names().contains("commitFailed"))
        writer.release()
        // And the store still works.
        #expect(try t.plain().read()?.payload == samplePayload)
    }

    @Test func invalidJSONIsRejectedBeforeAnyFileIsTouched() throws {
        let (t, before) = try storeWithPreviousCache([])
        let listing = t.directory.listing()
        let writer = try t.store.acquireWriterLock()
        #expect(throws: MetadataCacheError.self) { try writer.commit(Data("{\"a\":".utf8)) }
        #expect(t.cacheBytes == before)
        #expect(t.directory.listing() == listing)
    }

    @Test func anOversizedPayloadIsRejectedWithBothSizes() throws {
        let (t, before) = try storeWithPreviousCache([]) { $0.maximumPayloadBytes = 16 }
        let writer = try t.store.acquireWriterLock()
        #expect(throws: MetadataCacheError.payloadTooLarge(bytes: Self.newPayload.count, limit: 16)) {
            try writer.commit(Self.newPayload)
        }
        #expect(t.cacheBytes == before)
    }

    @Test func notEnoughFreeSpaceFailsBeforeWritingAndSaysHowMuch() throws {
        let (t, before) = try storeWithPreviousCache([InjectedFault(.availableBytes, occurrence: nil, action: .report(1000))])
        let writer = try t.store.acquireWriterLock()
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Self.newPayload) }
        guard case let .failure(.insufficientSpace(directory, needed, available)) = outcome else {
            Issue.record("expected insufficientSpace, got \(outcome)")
            return
        }
        #expect(directory == t.store.directory)
        #expect(available == 1000)
        #expect(needed > UInt64(Self.newPayload.count))
        #expect(t.cacheBytes == before)
        #expect(t.tempFiles.isEmpty)
    }

    /// A filesystem whose statfs reports all zeros (LazyFS, other FUSE mounts) has
    /// not said it is full: the preflight is skipped, with an event, and the
    /// commit goes ahead.
    @Test func aFilesystemReportingNoSizeSkipsTheFreeSpaceCheck() throws {
        let (t, _) = try storeWithPreviousCache([InjectedFault(.availableBytes, occurrence: nil, action: .reportUnknownSize)])
        let writer = try t.store.acquireWriterLock()
        let receipt = try writer.commit(Self.newPayload)
        #expect(receipt.generation == 2)
        #expect(try t.store.read()?.payload == Self.newPayload)
        #expect(t.events.events.contains(.freeSpaceUnknown(directory: t.store.directory)))
        #expect(InjectedFault.parse("availableBytes#*=report:unknown")?.action == .reportUnknownSize)
    }

    /// The rule itself: f_blocks == 0 means unknown; otherwise f_bavail blocks
    /// of f_frsize bytes, saturated.
    @Test func statvfsWithNoBlocksMeansUnknownSize() {
        var s = statvfs()
        #expect(LiveSystemCallProvider.availableBytes(s) == nil)
        s.f_blocks = 1000
        s.f_bavail = 10
        s.f_frsize = 4096
        #expect(LiveSystemCallProvider.availableBytes(s) == 40960)
        s.f_bavail = .max
        #expect(LiveSystemCallProvider.availableBytes(s) == .max)
        s.f_bavail = 0
        #expect(LiveSystemCallProvider.availableBytes(s) == 0)
    }

    @Test func interruptsAndShortWritesAreRetriedToCompletion() throws {
        let faults = [
            InjectedFault(.write, occurrence: nil, action: .shortTransfer(maxBytes: 3)),
            InjectedFault(.write, occurrence: 2, action: .interrupt(times: 50)),
            InjectedFault(.fsync, occurrence: 1, action: .interrupt(times: 20)),
            InjectedFault(.rename, occurrence: 1, action: .interrupt(times: 20)),
            InjectedFault(.open, occurrence: nil, action: .interrupt(times: 5)),
        ]
        let (t, _) = try storeWithPreviousCache(faults)
        let writer = try t.store.acquireWriterLock()
        let receipt = try writer.commit(Self.newPayload)
        writer.release()
        #expect(receipt.generation == 2)
        #expect(try t.plain().read()?.payload == Self.newPayload)
        #expect(t.tempFiles.isEmpty)
    }

    @Test func theProtocolRunsInTheDocumentedOrder() throws {
        let recorder = FaultInjectingSystemCalls(faults: [])
        let t = try TestStore("order") { $0.systemCalls = SystemCalls(provider: recorder) }
        let writer = try t.store.acquireWriterLock()
        let start = recorder.callLog.count
        try writer.commit(Self.newPayload)
        let calls = recorder.callLog[start...].map { $0.split(separator: " ").first.map(String.init) ?? $0 }
        let protocolSteps = calls.filter { ["availableBytes", "write", "fsync", "rename", "fsyncDirectory"].contains($0) }
        #expect(protocolSteps == ["availableBytes", "write", "write", "fsync", "rename", "fsyncDirectory"])
        let tempOpen = recorder.callLog[start...].first { $0.hasPrefix("open ") && $0.contains(".tmp-") }
        #expect(tempOpen != nil)
    }

    @Test func aFailedDirectoryFsyncSaysTheNewCacheIsInPlace() throws {
        let (t, _) = try storeWithPreviousCache([InjectedFault(.fsyncDirectory, action: .fail(.ioError))])
        let writer = try t.store.acquireWriterLock()
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Self.newPayload) }
        guard case let .failure(error) = outcome else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.description.contains("in place"))
        #expect(error.errno == .ioError)
        #expect(try t.plain().read()?.payload == Self.newPayload)
    }

    @Test func filesAreCreatedPrivate() throws {
        let t = try TestStore("modes")
        try t.store.acquireWriterLock().commit(samplePayload)
        for name in ["metadata.json", "metadata.lock"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: t.directory.file(name))
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(name)")
        }
    }

    @Test func generationCountsCommitsAndEncodableCommitsSkipValidation() throws {
        struct Catalogue: Codable { var packages: [String] }
        let t = try TestStore("gen")
        let writer = try t.store.acquireWriterLock()
        #expect(try writer.commit(samplePayload).generation == 1)
        #expect(try writer.commit(encoding: Catalogue(packages: ["a"])).generation == 2)
        let snapshot = try #require(try writer.read())
        #expect(try JSONDecoder().decode(Catalogue.self, from: snapshot.payload).packages == ["a"])
        let event = t.events.events.compactMap { event -> (UInt64, Int)? in
            if case let .commitSucceeded(_, generation, _, _, retries) = event { return (generation, retries) }
            return nil
        }
        #expect(event.map(\.0) == [1, 2])
    }

    @Test func revalidationKeepsPayloadAndGenerationAndRenewsFetchedAt() throws {
        let t = try TestStore("revalidate")
        let writer = try t.store.acquireWriterLock()
        let old = Date(timeIntervalSinceNow: -3600)
        try writer.commit(samplePayload, source: "https://x", validators: HTTPValidators(etag: "\"1\""), fetchedAt: old)
        let first = try #require(try writer.read())
        let receipt = try writer.commitRevalidation()
        let second = try #require(try writer.read())
        #expect(receipt.generation == first.generation)
        #expect(second.payload == first.payload)
        #expect(second.commitID != first.commitID)
        #expect(second.fetchedAt > first.fetchedAt)
        #expect(second.validators.etag == "\"1\"")
        #expect(second.source == "https://x")
    }
}

/// Rename retries: transient failures are retried with 50 ms doubling backoff,
/// never beyond the lock-timeout budget; permanent ones fail at once.
@Suite(.serialized, .dedicatedThread) struct RenameRetryTests {
    @Test func backoffStartsAt50msDoublesAndCapsAtOneSecond() {
        let sleeps = (1...8).map { DurableCommit.backoff(beforeRetry: $0) }
        #expect(sleeps == [50, 100, 200, 400, 800, 1000, 1000, 1000].map { Duration.milliseconds($0) })
    }

    @Test func transientRenameFailuresAreRetriedUntilTheySucceed() throws {
        let t = try TestStore("retry", faults: [
            InjectedFault(.rename, occurrence: 1, action: .fail(.busy)),
            InjectedFault(.rename, occurrence: 2, action: .fail(.busy)),
        ])
        let writer = try t.store.acquireWriterLock(timeout: .after(.seconds(30)))
        let receipt = try writer.commit(samplePayload)
        #expect(receipt.renameRetries == 2)
        #expect(t.tempFiles.isEmpty)
    }

    @Test func retriesStopAtTheLockTimeoutBudget() throws {
        let t = try TestStore("budget", faults: [InjectedFault(.rename, occurrence: nil, action: .fail(.busy))])
        try t.plain().acquireWriterLock().commit(samplePayload)
        let before = try #require(t.cacheBytes)
        let writer = try t.store.acquireWriterLock(timeout: .after(.milliseconds(400)))
        let started = ContinuousClock.now
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Data("[2]".utf8)) }
        let elapsed = ContinuousClock.now - started
        guard case let .failure(error) = outcome else {
            Issue.record("expected the rename to give up")
            return
        }
        #expect(error.errno == .busy)
        // 400 ms budget: 50 + 100 + 200 + (capped) 50 ms of sleeps. Generous bound.
        #expect(elapsed < .seconds(5))
        #expect(elapsed >= .milliseconds(300))
        #expect(t.cacheBytes == before)
        #expect(t.tempFiles.isEmpty)
    }

    @Test func theFailedCommitEventReportsTheRetries() throws {
        let t = try TestStore("retries-event", faults: [InjectedFault(.rename, occurrence: nil, action: .fail(.busy))])
        let writer = try t.store.acquireWriterLock(timeout: .after(.milliseconds(200)))
        #expect(throws: MetadataCacheError.self) { try writer.commit(samplePayload) }
        let retries = t.events.events.compactMap { event -> Int? in
            if case let .commitFailed(_, _, retries) = event { return retries }
            return nil
        }
        #expect((retries.first ?? 0) >= 2)
    }

    @Test func timeSpentHoldingTheLockDoesNotConsumeTheRetryBudget() throws {
        let t = try TestStore("hold-budget", faults: [
            InjectedFault(.rename, occurrence: 1, action: .fail(.busy)),
        ])
        let writer = try t.store.acquireWriterLock(timeout: .after(.milliseconds(300)))
        // Simulates a fetch under the lock that outlasts the whole timeout (the
        // sleep is the work being simulated, not a synchronisation).
        usleep(400_000)
        #expect(try writer.commit(samplePayload).renameRetries == 1)
    }

    @Test func anImmediateTimeoutLeavesNoBudgetForRetries() throws {
        let t = try TestStore("immediate", faults: [InjectedFault(.rename, occurrence: nil, action: .fail(.busy))])
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        let started = ContinuousClock.now
        #expect(throws: MetadataCacheError.self) { try writer.commit(samplePayload) }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(t.tempFiles.isEmpty)
    }

    @Test func permanentRenameFailuresAreNotRetried() throws {
        let t = try TestStore("permanent", faults: [InjectedFault(.rename, occurrence: nil, action: .fail(Errno(rawValue: EXDEV)))])
        let writer = try t.store.acquireWriterLock(timeout: .after(.seconds(30)))
        let started = ContinuousClock.now
        #expect(throws: MetadataCacheError.self) { try writer.commit(samplePayload) }
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
