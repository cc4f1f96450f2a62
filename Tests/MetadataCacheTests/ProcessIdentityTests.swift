import Foundation
import Testing
import TestSupport
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

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/sys/kernel/random/boot_id"), "needs /proc"))
    func thisProcessKnowsItsBootMachineAndPidNamespace() throws {
        let boot = try #require(ProcessIdentity.bootID)
        #expect(boot.count == 36 && boot == boot.lowercased())
        let fromProc = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        #expect(boot == fromProc.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        let namespace = try #require(ProcessIdentity.pidNamespace)
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        #expect(link == "pid:[\(namespace)]")
        #expect(ProcessIdentity.sharesPidNamespace(bootID: boot, pidNamespace: namespace))
        #expect(!ProcessIdentity.sharesPidNamespace(bootID: boot, pidNamespace: namespace &+ 1))
        #expect(!ProcessIdentity.sharesPidNamespace(bootID: "00000000-0000-4000-8000-000000000001", pidNamespace: namespace))
        #expect(!ProcessIdentity.sharesPidNamespace(bootID: nil, pidNamespace: namespace))
        #expect(!ProcessIdentity.sharesPidNamespace(bootID: boot, pidNamespace: nil))
    }

    // MARK: Creator tags in file names

    @Test func creatorTagsRoundTripAndVersionOneNamesParseWithoutIdentity() throws {
        let tag = FileCreatorTag.current()
        #expect(tag.pid == getpid())
        #expect(FileCreatorTag(parsing: Substring(tag.text)) == tag)
        let old = try #require(FileCreatorTag(parsing: "4242-00000000000000ff"))
        #expect(old.pid == 4242 && old.random == 0xff && old.identity == nil)
        let full = try #require(FileCreatorTag(parsing: "7-00000000000000ff-c34d1cdddf5f48b3bec191b1a03c69e8-4026531836-155103"))
        #expect(full.identity == .init(bootID: "c34d1cdddf5f48b3bec191b1a03c69e8", pidNamespace: 4_026_531_836, startTime: 155_103))
        for bad in ["", "x-00000000000000ff", "0-00000000000000ff", "7-ff", "7-00000000000000ff-", "7-00000000000000ff-short-1-2",
                    "7-00000000000000ff-c34d1cdddf5f48b3bec191b1a03c69e8-ns-1", "7-00000000000000ff-1-2-3-4"] {
            #expect(FileCreatorTag(parsing: Substring(bad)) == nil, "\(bad)")
        }
    }

    /// Only a creator of this boot and pid namespace whose pid is gone (or names
    /// a process started at another time) is provably dead.
    @Test(.enabled(if: ProcessIdentity.bootID != nil && ProcessIdentity.pidNamespace != nil, "needs /proc"))
    func aCreatorIsProvablyDeadOnlyInThisBootAndPidNamespace() throws {
        let child = try ChildProcess("/bin/true", [])
        try child.wait()
        let boot = try #require(ProcessIdentity.bootID).filter { $0 != "-" }
        let namespace = try #require(ProcessIdentity.pidNamespace)
        let me = try #require(ProcessIdentity.currentStartTime)
        func tag(pid: Int32, boot: String = boot, namespace: UInt64 = namespace, start: UInt64) -> FileCreatorTag {
            FileCreatorTag(pid: pid, random: 1, identity: .init(bootID: boot, pidNamespace: namespace, startTime: start))
        }
        #expect(tag(pid: child.pid, start: 1).creatorIsProvablyDead)
        #expect(tag(pid: getpid(), start: me &+ 1).creatorIsProvablyDead, "a reused pid")
        #expect(!tag(pid: getpid(), start: me).creatorIsProvablyDead)
        #expect(!tag(pid: child.pid, boot: String(repeating: "0", count: 32), start: 1).creatorIsProvablyDead)
        #expect(!tag(pid: child.pid, namespace: namespace &+ 1, start: 1).creatorIsProvablyDead)
        #expect(!FileCreatorTag(pid: child.pid, random: 1, identity: nil).creatorIsProvablyDead)
    }

    // MARK: Holder identity

    func record(bootID: String?, pidNamespace: UInt64?, host: String = "ns-a", machineID: String? = nil) -> HolderRecord {
        HolderRecord(
            pid: 1, host: host, processStartTime: 7, command: "tool", acquiredAt: Date(timeIntervalSince1970: 1_700_000_000),
            backend: .lockFile,
            leaseID: "00000000000000aa", leaseSeconds: 30, bootID: bootID, machineID: machineID, pidNamespace: pidNamespace)
    }

    @Test(.enabled(if: ProcessIdentity.bootID != nil && ProcessIdentity.pidNamespace != nil, "needs /proc"))
    func aHolderIsLocalOnlyWhenBootAndPidNamespaceMatch() throws {
        let boot = ProcessIdentity.bootID
        let namespace = try #require(ProcessIdentity.pidNamespace)
        let here = record(bootID: boot, pidNamespace: namespace, host: ProcessIdentity.hostName)
        #expect(here.isOnThisHost && here.sharesPidNamespaceWithThisProcess)
        #expect(here.location == ProcessIdentity.hostName)
        let container = record(bootID: boot, pidNamespace: namespace &+ 1)
        #expect(container.isOnThisHost && !container.sharesPidNamespaceWithThisProcess)
        #expect(container.location == "ns-a, in another pid namespace")
        #expect(container.summary == "pid 1 (tool) on ns-a, in another pid namespace")
        // Our host name, another kernel: not presented as local.
        let twin = record(bootID: "00000000-0000-4000-8000-000000000001", pidNamespace: namespace, host: ProcessIdentity.hostName)
        #expect(!twin.isOnThisHost && !twin.sharesPidNamespaceWithThisProcess)
        #expect(twin.location == ProcessIdentity.hostName + ", another machine or boot")
        // Another machine id on our boot id cannot be us either.
        if ProcessIdentity.machineID != nil {
            #expect(!record(bootID: boot, pidNamespace: namespace, machineID: String(repeating: "f", count: 32)).isOnThisHost)
        }
        // A version-1 record (no identity fields): unknown, so never judged by pid.
        let old = try #require(HolderRecord(parsing: Array(#"{"pid":1,"host":"ns-a","processStartTime":7,"command":"tool","acquiredAt":"2026-11-25T09:31:02.123Z","backend":"lockfile","leaseId":"00000000000000aa","leaseSeconds":30}"#.utf8)))
        #expect(old.bootID == nil && old.machineID == nil && old.pidNamespace == nil)
        #expect(!old.isOnThisHost && !old.sharesPidNamespaceWithThisProcess)
        #expect(old.location == "ns-a")
        // The new fields round-trip.
        let parsed = try #require(HolderRecord(parsing: Array(container.encodedJSON().utf8)))
        #expect(parsed == container)
    }

    /// The cached walk answers like a fresh one: our parent is an ancestor with
    /// its start time, we and a pid outside the chain are not.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/stat") && getppid() > 1,
        "needs /proc and a parent other than init"))
    func ancestorStartTimeAgreesWithTheWalk() throws {
        let walk = ProcessIdentity.ancestors()
        let parent = try #require(walk.first)
        #expect(parent.pid == getppid())
        for _ in 0..<2 {  // the first call fills the cache, the second uses it
            let found = ProcessIdentity.ancestorStartTime(of: parent.pid)
            #expect(found == .some(parent.startTime))
            #expect(ProcessIdentity.ancestorStartTime(of: getpid()) == nil)
            let outsider = (walk.map(\.pid).max() ?? 1) + 1_000_000
            #expect(ProcessIdentity.ancestorStartTime(of: outsider) == nil)
        }
    }
}
