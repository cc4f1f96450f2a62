import Foundation
import Testing
import TestSupport
@testable import MetadataCache

#if canImport(Glibc)
import Glibc
#endif

/// Breaking a stale owner file with several contenders — real processes, `flock` unavailable (ENOLCK through the
/// syscall seam in every agent), so owner files alone exclude.
@Suite struct LockFileBreakTests {
    static let noFlock = ["--backend", "lockfile", "--fault", "flock#*=ENOLCK"]

    /// The most holders at once in an agents' log (`ACQUIRED pid` / `RELEASED pid`
    /// lines, each one O_APPEND write: logged after acquiring and before releasing,
    /// so a logged overlap is a real one).
    static func mostHoldersAtOnce(_ log: String) -> Int {
        var holding = Set<String>()
        var most = 0
        for line in log.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            if parts[0] == "ACQUIRED" { holding.insert(String(parts[1])) } else { holding.remove(String(parts[1])) }
            most = max(most, holding.count)
        }
        return most
    }

    /// Issue 17 item 4(c): three contenders and a stale owner file (its holder, of
    /// this pid namespace, is dead). The first breaker is stopped just before it
    /// puts its own owner file in place; two more arrive meanwhile. Only the
    /// claimant may act: the others wait, and at no instant do two hold the lock.
    /// Control: breakers that do not serialise (version 1 renamed the stale file
    /// aside, so a third waiter could create its own in between; unserialised
    /// replacement lets the second breaker replace the first's new file).
    @Test(arguments: [false, true])
    func threeContendersDuringABreakNeverHoldAtOnce(unserialisedBreaks control: Bool) throws {
        let directory = TemporaryDirectory("three-contenders")
        let deadHolder = try ChildProcess("/bin/true", [])
        try deadHolder.wait()
        try directory.write("metadata.lock.owner", Data(HolderRecord(
            pid: deadHolder.pid, host: ProcessIdentity.hostName, processStartTime: nil, command: "crashed",
            acquiredAt: Date(), backend: .lockFile, leaseID: "00000000000000ab", leaseSeconds: 30,
            bootID: ProcessIdentity.bootID, machineID: ProcessIdentity.machineID, pidNamespace: ProcessIdentity.pidNamespace
        ).encodedJSON().utf8))
        let log = directory.file("holds.log")
        let sabotage = control ? ["--sabotage", "unserialised-breaks"] : []
        let common = ["hold", "--dir", directory.path, "--log", log, "--timeout", "30"] + Self.noFlock + sabotage

        // A: judges the file stale, prepares its replacement, and is stopped just
        // before the rename that puts it in place.
        let first = try Agent.start(common + ["--fault", "rename@.lock.owner.next-=pause"])
        _ = try first.readLine(until: { $0.hasPrefix("PAUSED") })
        // B and C arrive during the break.
        let others = try [Agent.start(common), Agent.start(common)]
        defer { for agent in [first] + others { agent.closeStdin(); _ = try? agent.wait() } }
        for agent in others {
            _ = try agent.readLine(until: { $0.hasPrefix("WAITING") || $0.hasPrefix("ACQUIRED") })
        }
        first.send("go on\n")
        _ = try first.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let duringBreak = Self.mostHoldersAtOnce((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")

        // Let everyone go, one after another as each gets the lock.
        for agent in [first] + others { agent.closeStdin() }
        for agent in [first] + others { _ = try agent.remainingLines() }
        let whole = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if control {
            #expect(duringBreak >= 2, "the control went unnoticed: \(whole)")
            return
        }
        #expect(duringBreak == 1, "two contenders held the lock at once: \(whole)")
        #expect(Self.mostHoldersAtOnce(whole) == 1, "\(whole)")
        #expect(whole.split(separator: "\n").filter { $0.hasPrefix("ACQUIRED") }.count == 3, "everyone got its turn: \(whole)")
        #expect(directory.listing() == ["holds.log", "metadata.lock"], "nothing left behind: \(directory.listing())")
    }

    /// Without `flock`, lock-file waiters wake on the owner file's removal
    /// (inotify) or at a fixed poll, never at a growing backoff that lets newcomers
    /// overtake them: six writers doing 25 read-modify-writes each, all at once,
    /// lose no update and none gives up waiting (10 s timeout).
    @Test func sixWritersWithoutFlockLoseNoUpdateAndNoneTimesOut() throws {
        let directory = TemporaryDirectory("no-flock-contention")
        let writers = try (1...6).map { n in
            try Agent.start(["update", "--dir", directory.path, "--counter", "c\(n)", "--times", "25", "--timeout", "10"] + Self.noFlock)
        }
        for writer in writers {
            let lines = try writer.remainingLines(timeout: .seconds(120))
            #expect(try writer.wait() == .exited(0), "\(lines.filter { !$0.hasPrefix("PROGRESS") && !$0.hasPrefix("WAITING") })")
            #expect(lines.contains("DONE updates=25"))
        }
        let payload = try #require(try CacheStore(directory: directory.path).read()?.payload)
        let object = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        let counters = try #require(object["counters"] as? [String: Int])
        #expect(counters == Dictionary(uniqueKeysWithValues: (1...6).map { ("c\($0)", 25) }), "lost updates: \(counters)")
        #expect(directory.listing() == ["metadata.json", "metadata.lock"], "\(directory.listing())")
    }
}
