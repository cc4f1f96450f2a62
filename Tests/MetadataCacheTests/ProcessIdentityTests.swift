import Foundation
import Testing
@testable import MetadataCache

/// Facts about processes that the self-deadlock guard relies on.
@Suite struct ProcessIdentityTests {
    @Test func theAncestorWalkIncludesPidOne() {
        // A container: the host tool is pid 1 and spawned 40, which spawned 41.
        let parents: [Int32: Int32] = [41: 40, 40: 1, 1: 0]
        let walk = ProcessIdentity.ancestors(from: 41, parent: { parents[$0] }, startTime: { UInt64($0) * 100 })
        #expect(walk.map(\.pid) == [41, 40, 1])
        #expect(walk.map(\.startTime) == [4100, 4000, 100])
    }

    @Test func theWalkStopsAtAnUnknownParentAndCannotLoop() {
        let unknown = ProcessIdentity.ancestors(from: 7, parent: { $0 == 7 ? 5 : nil }, startTime: { _ in nil })
        #expect(unknown.map(\.pid) == [7, 5])
        let cycle = ProcessIdentity.ancestors(from: 9, parent: { $0 == 9 ? 8 : 9 }, startTime: { _ in nil })
        #expect(cycle.count == 64)
        #expect(ProcessIdentity.ancestors(from: 0, parent: { _ in 1 }, startTime: { _ in nil }).isEmpty)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/stat") && getppid() > 0,
        "needs /proc and a parent inside this pid namespace"))
    func thisProcessesRealAncestryEndsAtPidOne() throws {
        let walk = ProcessIdentity.ancestors()
        #expect(walk.first?.pid == getppid())
        #expect(walk.last?.pid == 1, "ancestors: \(walk.map(\.pid))")
        #expect(walk.last?.startTime == ProcessIdentity.startTime(of: 1))
    }
}
