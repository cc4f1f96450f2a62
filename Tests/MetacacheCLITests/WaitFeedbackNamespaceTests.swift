import Foundation
import MetadataCache
import Testing
@testable import MetacacheCLI

/// Issue 15 item 6: a wait for a holder in another container sharing the cache
/// must not present its pid as one of ours: `pid 1` there is not our init.
@Suite struct WaitFeedbackNamespaceTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let text = WaitFeedbackText(cachePath: "/c/metadata.json", action: "refresh")

    static func holder(pidNamespace: UInt64?) -> HolderRecord {
        HolderRecord(
            pid: 1, host: "ci-runner-2", processStartTime: 1, command: "metacache cache refresh",
            acquiredAt: now.addingTimeInterval(-4), backend: .advisory, leaseID: "x",
            bootID: ProcessIdentity.bootID, machineID: ProcessIdentity.machineID, pidNamespace: pidNamespace)
    }

    @Test(.enabled(if: ProcessIdentity.bootID != nil && ProcessIdentity.pidNamespace != nil, "needs /proc"))
    func aHolderInAnotherPidNamespaceIsSaidToBeThere() throws {
        let ours = try #require(ProcessIdentity.pidNamespace)
        let elsewhere = Self.holder(pidNamespace: ours &+ 1)
        let line = Self.text.started(holder: elsewhere, timeout: .after(.seconds(10)), now: Self.now)
        #expect(line == "Waiting for lock on cache /c/metadata.json held by pid 1 (metacache cache refresh) on ci-runner-2, in another pid namespace for 4s (timeout: 10s; Ctrl-C to cancel)")
        #expect(Self.text.timedOut(waited: .seconds(10), timeout: .after(.seconds(10)), holder: elsewhere, now: Self.now)
            .contains("held by pid 1 (metacache cache refresh) on ci-runner-2, in another pid namespace for 4s"))
        // A holder in our own pid namespace reads as before.
        let local = Self.text.started(holder: Self.holder(pidNamespace: ours), timeout: .after(.seconds(10)), now: Self.now)
        #expect(local.contains("held by pid 1 (metacache cache refresh) on ci-runner-2 for 4s"))
    }
}
