import Foundation
import MetadataCache
import TestSupport

/// Power cuts during real `metacache cache refresh`es on a loop-mounted
/// filesystem: each refresh runs under `syscall-strike --pause`, which stops it
/// after each of its in-focus file calls; at chosen stops the disk image is
/// copied (what the device holds at that instant, see `LoopFilesystem.snapshot`),
/// mounted (journal replay, as at the next boot) and checked, then the refresh
/// goes on.
///
/// What each copy must hold, by how far the commit got (learned from the calls
/// themselves, by name and path: the rename of the temp file over the cache, the
/// sync of the cache directory):
/// - before the rename: exactly the old cache file, plus at most one orphan; once
///   the temp file has been fsynced, the orphan is there and is the complete new
///   file;
/// - after the rename, before the directory sync: the old cache (the rename is
///   not durable yet) — exactly that if the device completed no write since
///   before the rename; if the kernel wrote back on its own meanwhile (a journal
///   commit timer), the old or the new one, counted as a background commit;
/// - after the directory sync, and once the command has returned: exactly the
///   new payload, verified, and no temp file.
/// On copies taken at every step, the next writer also runs: its refresh must
/// succeed, sweep the orphan and read back exactly.
struct PowerLossSweep {
    let fs: LoopFilesystem
    let cli: CLIUnderTest
    private let sources: TemporaryDirectory

    /// What the runs showed.
    struct Tally: CustomStringConvertible {
        var snapshots = 0
        var acknowledged = 0
        var survived = 0
        var backgroundCommits = 0
        var controlAcknowledged = 0
        var controlLost = 0
        /// Control refreshes whose snapshot window saw device writes (a background
        /// journal commit may have made them durable by luck).
        var controlWithBackgroundWrites = 0
        var violations: [String] = []

        var description: String {
            "\(snapshots) snapshots checked; \(survived) of \(acknowledged) acknowledged refreshes survived; "
                + "\(backgroundCommits) background commits seen before a directory sync; "
                + "control without the directory fsync: lost \(controlLost) of \(controlAcknowledged) acknowledged refreshes "
                + "(\(controlWithBackgroundWrites) with background device writes)"
        }
    }

    private(set) var tally = Tally()
    private var sequence: UInt64 = 1
    /// The name of the call that syncs the cache directory (learned from the
    /// first refresh), for the control writer that skips it.
    private var directorySyncName: String?

    init(_ kind: LoopFilesystem.Kind) throws {
        fs = try LoopFilesystem(kind)
        sources = TemporaryDirectory("power-sources")
        cli = CLIUnderTest(root: sources.path, cacheDirectory: fs.mountPoint + "/cache")
        let seeded = try cli.refreshBlocking(sequence: 1)
        guard seeded.exitCode == 0 else { throw LoopFilesystem.Failure(description: "seeding refresh: \(seeded.stderr)") }
    }

    enum Phase: String { case beforeRename = "before the rename", renamed = "after the rename, before the directory sync", durable = "after the directory sync" }

    /// One refresh, cut at every step of its commit (`stepwise`) or after the
    /// temp fsync, the rename and the directory sync only; then after it returns.
    /// `control`: the directory sync is skipped (not performed, reported done).
    mutating func refresh(stepwise: Bool, control: Bool = false) throws {
        sequence += 1
        let sequence = self.sequence
        let directory = cli.cacheDirectory
        guard let oldFile = CacheDirectoryState(directory).cacheFile else {
            throw LoopFilesystem.Failure(description: "no cache before refresh \(sequence)")
        }
        var strike: SyscallStrike.Strike?
        if control {
            guard let name = directorySyncName else { throw LoopFilesystem.Failure(description: "the control runs after a real refresh") }
            strike = SyscallStrike.Strike(name: name, pathGlob: directory, occurrence: 1, times: nil, action: .skip)
        }
        let work = fs.scratch + "/refresh-\(sequence)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let tracer = try ChildProcess(
            SyscallStrike.path,
            SyscallStrike.arguments(
                try cli.refreshCommand(sequence: sequence), focus: directory, strikes: strike.map { [$0] } ?? [], pause: true, work: work),
            environment: Metacache.environment(), stdin: .pipe, stdout: .pipe, stderr: .captured)

        var phase = Phase.beforeRename
        var tempCreated = false
        var beforeRename: LoopFilesystem.DeviceActivity?
        var output: [String] = []
        while let line = try tracer.readLine(timeout: .seconds(120)) {
            output.append(line)
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.first == "PAUSE", let call = FileSyscall(fields: Array(fields.dropFirst())) else { continue }
            let family = SweptCall.Family(call.name)
            let onTemp = call.paths.first?.contains(".tmp-") == true
            let onDirectory = call.paths.first == directory
            var cut = false
            if family == .open && onTemp && call.succeeded { tempCreated = true }
            if family == .sync && onTemp && call.succeeded { cut = true }
            if family == .rename && onTemp && call.succeeded { phase = .renamed; cut = true }
            if family == .sync && onDirectory && call.succeeded && phase == .renamed {
                if directorySyncName == nil { directorySyncName = call.name }
                // A skipped sync (the control) was not performed: nothing changed.
                if !call.result.contains("(struck)") { phase = .durable }
                cut = true
            }
            // The device as it was before the rename was entered (recorded at
            // every stop until then, so the last one precedes the rename).
            if phase == .beforeRename { beforeRename = fs.activity() }
            if (stepwise && tempCreated) || (cut && !control) {
                try check(
                    after: "\(call.name)(\((call.paths.first.map { ($0 as NSString).lastPathComponent }) ?? ""))", phase: phase,
                    tempSynced: tempCreated && phase == .beforeRename && family == .sync && onTemp ? true : nil,
                    oldFile: oldFile, newPayload: cli.payload(sequence: sequence), beforeRename: beforeRename,
                    nextWriter: stepwise, refresh: sequence)
            }
            tracer.send("go\n")
        }
        let termination = try tracer.wait(timeout: .seconds(60))
        guard termination == .exited(0) else {
            tally.violations.append("refresh \(sequence) failed: \(termination) \(tracer.standardError) \(output.suffix(3))")
            return
        }

        // Acknowledged: the command returned 0. Cut the power now.
        let copy = fs.scratch + "/returned.img"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let now = try fs.snapshot(to: copy)
        tally.snapshots += 1
        let survived = try fs.withMountedCopy(copy) { mount -> Bool in
            let state = CacheDirectoryState(mount + "/cache")
            return (try? state.verifiedPayload()) == cli.payload(sequence: sequence) && state.temps.isEmpty
        }
        if control {
            tally.controlAcknowledged += 1
            if !survived { tally.controlLost += 1 }
            if let beforeRename, now != beforeRename { tally.controlWithBackgroundWrites += 1 }
        } else {
            tally.acknowledged += 1
            if survived { tally.survived += 1 } else { tally.violations.append("refresh \(sequence) returned 0 but is lost after a power cut") }
        }
    }

    /// Copies the device now and checks the copy for `phase`.
    private mutating func check(
        after step: String, phase: Phase, tempSynced: Bool?, oldFile: Data, newPayload: [UInt8],
        beforeRename: LoopFilesystem.DeviceActivity?, nextWriter: Bool, refresh: UInt64
    ) throws {
        let copy = fs.scratch + "/cut.img"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let now = try fs.snapshot(to: copy)
        tally.snapshots += 1
        let context = "\(fs.kind), refresh \(refresh), power cut after \(step) (\(phase.rawValue))"
        var violations: [String] = []
        var background = false
        try fs.withMountedCopy(copy) { mount in
            let state = CacheDirectoryState(mount + "/cache")
            let payload = try? state.verifiedPayload()
            let isOld = state.cacheFile == oldFile
            let isNew = payload == newPayload
            switch phase {
            case .beforeRename:
                if !isOld { violations.append("not the old cache") }
                if state.temps.count > 1 { violations.append("more than one orphan: \(state.temps)") }
                if tempSynced == true {
                    // The fsync made the temp durable: the orphan is the whole new file.
                    if let temp = state.temps.first {
                        if Self.verifiedPayload(ofTemp: mount + "/cache/" + temp) != newPayload { violations.append("the fsynced orphan is not the complete new file") }
                    } else {
                        violations.append("the fsynced temp file is missing")
                    }
                }
            case .renamed:
                if beforeRename == now {
                    if !isOld { violations.append("the rename reached the device without a directory sync or any device write") }
                } else {
                    background = true
                    if !isOld && !isNew { violations.append("neither the old cache nor the new payload") }
                }
                if state.temps.count > 1 { violations.append("more than one orphan: \(state.temps)") }
            case .durable:
                if !isNew { violations.append("not exactly the new payload (\(isOld ? "the old cache" : "damaged"))") }
                if !state.temps.isEmpty { violations.append("orphans after the rename: \(state.temps)") }
            }
            // The machine boots again: the next writer refreshes the copied cache.
            if nextWriter {
                let next = CLIUnderTest(root: cli.root, cacheDirectory: mount + "/cache")
                let result = try next.refreshBlocking(sequence: 1_000)
                let read = try next.runBlocking(["cache", "read"])
                if result.exitCode != 0 { violations.append("the next writer's refresh failed: \(result.stderr)") }
                if !CacheDirectoryState(mount + "/cache").temps.isEmpty { violations.append("the next writer left the orphan") }
                if read.stdout != next.payload(sequence: 1_000) { violations.append("the next writer's cache does not read back exactly") }
            }
        }
        if background { tally.backgroundCommits += 1 }
        tally.violations += violations.map { "\(context): \($0)" }
    }

    /// The payload of a temp file read as a cache file (nil if incomplete).
    private static func verifiedPayload(ofTemp path: String) -> [UInt8]? {
        let dir = TemporaryDirectory("power-orphan")
        try? FileManager.default.createDirectory(atPath: dir.file("cache"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard (try? FileManager.default.copyItem(atPath: path, toPath: dir.file("cache/metadata.json"))) != nil else { return nil }
        return try? CacheDirectoryState(dir.file("cache")).verifiedPayload()
    }
}
