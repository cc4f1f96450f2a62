#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport

/// Two real unprivileged users, for the attacks of issue 19 that need them: the
/// owner of a cache and an attacker (root skips the permission checks these
/// attacks are about, so neither may be root). Created on first use with
/// `useradd` when missing, and commands run as them with `setpriv`. Nil, with
/// the reason printed, where that is not allowed (not root, no useradd/setpriv).
enum LocalUsers {
    struct User {
        let name: String
        let uid: UInt32
        let gid: UInt32
    }

    static let setpriv = "/usr/bin/setpriv"

    static func unavailableReason() -> String? {
        if geteuid() != 0 { return "creating users and running as them needs root" }
        for tool in ["/usr/sbin/useradd", setpriv, "/usr/bin/id"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing"
        }
        return nil
    }

    static func user(_ name: String) throws -> User {
        if try ChildProcess.run("/usr/bin/id", ["-u", name], timeout: .seconds(10)).exitCode != 0 {
            let added = try ChildProcess.run(
                "/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
                timeout: .seconds(30))
            try #require(added.exitCode == 0, "useradd \(name): \(added.summary)")
        }
        func number(_ flag: String) throws -> UInt32 {
            let out = try ChildProcess.run("/usr/bin/id", [flag, name], timeout: .seconds(10))
            return try #require(UInt32(out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)), "id \(flag) \(name)")
        }
        return User(name: name, uid: try number("-u"), gid: try number("-g"))
    }

    static func arguments(_ user: User, _ executable: String, _ arguments: [String]) -> [String] {
        ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", executable] + arguments
    }

    static func run(_ user: User, _ executable: String, _ args: [String], timeout: Duration = .seconds(30)) throws -> ChildProcess.Result {
        try ChildProcess.run(setpriv, arguments(user, executable, args), environment: Metacache.environment(), timeout: timeout)
    }

    static func start(_ user: User, _ executable: String, _ args: [String]) throws -> ChildProcess {
        try ChildProcess(setpriv, arguments(user, executable, args), environment: Metacache.environment(), stdin: .null,
            stdout: .captured, stderr: .captured)
    }
}

extension MetacacheIntegration {
/// Issue 19's attacks, each with two real users where it needs them, and each
/// with a control that proves the attack has the power to do what it must not.
@Suite struct LocalAttackTests {
    /// How long the swap loop runs against each side: the issue measured 10 s;
    /// 4 s by default keeps CI quick (METACACHE_ATTACK_SECONDS to change).
    static let attackSeconds: Double = ProcessInfo.processInfo.environment["METACACHE_ATTACK_SECONDS"].flatMap(Double.init) ?? 4

    static let forgedMark = "FORGED-BY-ATTACKER"

    /// The attacker's tool: `swap A B SECONDS` exchanges two directories with
    /// renameat2(RENAME_EXCHANGE) in a loop; `pathread DIR SECONDS MARK` is the
    /// control, a reader that does what metacache did before issue 19 (lstat the
    /// directory, check it is the caller's and private, then open DIR/metadata.json
    /// by path) and counts reads containing MARK.
    static let helperSource = #"""
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>
        #include <time.h>
        #include <unistd.h>
        #ifndef RENAME_EXCHANGE
        #define RENAME_EXCHANGE (1 << 1)
        #endif
        static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
        int main(int argc, char **argv) {
            if (argc == 5 && strcmp(argv[1], "swap") == 0) {
                double end = now() + atof(argv[4]); long n = 0;
                while (now() < end) if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], RENAME_EXCHANGE) == 0) n++;
                printf("exchanges %ld\n", n); return n > 0 ? 0 : 1;
            }
            if (argc == 5 && strcmp(argv[1], "pathread") == 0) {
                double end = now() + atof(argv[3]); long reads = 0, forged = 0; static char buf[1 << 20];
                char file[4096]; snprintf(file, sizeof file, "%s/metadata.json", argv[2]);
                while (now() < end) {
                    struct stat s;
                    if (lstat(argv[2], &s) != 0 || !S_ISDIR(s.st_mode) || s.st_uid != geteuid() || (s.st_mode & 022)) continue;
                    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                    if (fd < 0) continue;
                    ssize_t got = read(fd, buf, sizeof buf - 1); close(fd);
                    if (got <= 0) continue;
                    reads++;
                    if (memmem(buf, (size_t)got, argv[4], strlen(argv[4]))) forged++;
                }
                printf("reads %ld forged %ld\n", reads, forged); return 0;
            }
            return 2;
        }
        """#

    /// The issue's attack: the owner uses `--dir X/cache` where X is the
    /// attacker's world-writable directory (`mkdir -m 777 /tmp/x`); the attacker
    /// exchanges X/cache with its own X/decoy (which holds a valid cache with a
    /// forged payload) in a loop, while the owner reads and refreshes in loops.
    /// Before issue 19: 17 of 200 reads printed the forged payload and refresh
    /// wrote into X/decoy. Now: no forged read, no file of the owner outside its
    /// directory (every command refuses X as an unsafe parent). Control: the
    /// path-based reader, run as the owner under the same loop, does read forged
    /// payloads.
    @Test func theDirectorySwapAttackForgesNoReadAndPlantsNoFile() throws {
        if let reason = LocalUsers.unavailableReason() {
            print("skipped theDirectorySwapAttackForgesNoReadAndPlantsNoFile: \(reason)")
            return
        }
        let owner = try LocalUsers.user("mcsec-owner")
        let attacker = try LocalUsers.user("mcsec-attacker")
        let scratch = TemporaryDirectory("swap-attack")
        chmod(scratch.path, 0o755)

        // Tools every user can run: the static metacache binary and the helper.
        let metacache = scratch.file("metacache")
        try FileManager.default.copyItem(atPath: Metacache.path, toPath: metacache)
        chmod(metacache, 0o755)
        try scratch.write("helper.c", Data(Self.helperSource.utf8))
        let helper = scratch.file("helper")
        let compiled = try ChildProcess.run("/usr/bin/cc", ["-O2", "-o", helper, scratch.file("helper.c")], timeout: .seconds(60))
        if compiled.exitCode != 0 {
            print("skipped theDirectorySwapAttackForgesNoReadAndPlantsNoFile: no C compiler (\(compiled.stderr))")
            return
        }
        chmod(helper, 0o755)

        // Two valid cache files (made by root elsewhere): the owner's, and the
        // attacker's with the forged payload.
        func cacheFile(_ payload: String, _ label: String) throws -> Data {
            let dir = scratch.file("make-\(label)")
            try scratch.write("\(label).json", Data(payload.utf8))
            let made = try Metacache.run(["cache", "refresh", "--dir", dir, "--source", scratch.file("\(label).json")])
            try #require(made.exitCode == 0, "\(made.summary)")
            return try #require(FileManager.default.contents(atPath: dir + "/metadata.json"))
        }
        let legit = try cacheFile(#"{"legit":true}"#, "legit")
        let forged = try cacheFile("{\"forged\":\"\(Self.forgedMark)\"}", "forged")
        try scratch.write("source.json", Data(#"{"refreshed":true}"#.utf8))
        chmod(scratch.file("source.json"), 0o644)

        // X: the attacker's, world-writable, not sticky.
        let x = scratch.file("x")
        try FileManager.default.createDirectory(atPath: x, withIntermediateDirectories: false, attributes: [:])
        chown(x, attacker.uid, attacker.gid)
        chmod(x, 0o777)
        // X/cache: the owner's private cache directory with its cache.
        let cache = x + "/cache"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: false, attributes: [:])
        try legit.write(to: URL(fileURLWithPath: cache + "/metadata.json"))
        chown(cache + "/metadata.json", owner.uid, owner.gid)
        chmod(cache + "/metadata.json", 0o600)
        chown(cache, owner.uid, owner.gid)
        chmod(cache, 0o700)
        // X/decoy: the attacker's, readable by all, holding the forged cache.
        let decoy = x + "/decoy"
        try FileManager.default.createDirectory(atPath: decoy, withIntermediateDirectories: false, attributes: [:])
        try forged.write(to: URL(fileURLWithPath: decoy + "/metadata.json"))
        chown(decoy + "/metadata.json", attacker.uid, attacker.gid)
        chmod(decoy + "/metadata.json", 0o644)
        chown(decoy, attacker.uid, attacker.gid)
        chmod(decoy, 0o755)

        let seconds = Self.attackSeconds
        // Control: the attack against a reader that checks, then opens by path.
        let controlSwap = try LocalUsers.start(attacker, helper, ["swap", cache, decoy, String(seconds)])
        let control = try LocalUsers.run(owner, helper, ["pathread", cache, String(seconds), Self.forgedMark], timeout: .seconds(seconds + 60))
        _ = try controlSwap.wait(timeout: .seconds(seconds + 60))
        let counts = control.stdoutText.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(counts.count == 2, "control output: \(control.summary)")
        print("control (path-based reader, \(seconds) s): \(counts[0]) reads, \(counts[1]) forged")
        #expect(counts[1] > 0, "the swap loop never fooled a path-based reader: this test would prove nothing")
        // Put the directories back the right way round (an odd number of
        // exchanges leaves them swapped).
        if (try? FileManager.default.contentsOfDirectory(atPath: cache))?.contains("metadata.json") == true,
            FileManager.default.contents(atPath: cache + "/metadata.json") == forged
        {
            let aside = x + "/aside"
            rename(cache, aside)
            rename(decoy, cache)
            rename(aside, decoy)
        }
        try #require(FileManager.default.contents(atPath: decoy + "/metadata.json") == forged)

        // The attack against metacache: reads and forced refreshes in loops.
        let swap = try LocalUsers.start(attacker, helper, ["swap", cache, decoy, String(seconds)])
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        var runs = 0
        var forgedReads = 0
        var exitCodes: [String: Int] = [:]
        var sample = ""
        while ContinuousClock.now < deadline {
            let command = runs % 2 == 0
                ? ["cache", "read", "--dir", cache]
                : ["cache", "refresh", "--force", "--dir", cache, "--source", scratch.file("source.json")]
            let result = try LocalUsers.run(owner, metacache, command)
            runs += 1
            if result.stdoutText.contains(Self.forgedMark) { forgedReads += 1 }
            exitCodes["\(command[1]) \(result.termination)", default: 0] += 1
            if sample.isEmpty, result.exitCode != 0 { sample = result.stderr }
        }
        let exchanges = try swap.wait(timeout: .seconds(60))
        print("attack on metacache (\(seconds) s, \(runs) commands): \(forgedReads) forged reads; outcomes \(exitCodes); swapper \(exchanges)")
        #expect(runs > 0)
        #expect(forgedReads == 0, "forged payloads were printed")
        // Nothing of the owner's landed in the attacker's directory or in X.
        for dir in [cache, decoy] {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            #expect(names == ["metadata.json"], "\(dir): \(names)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: x).sorted() == ["cache", "decoy"])
        let forgedNow = [cache, decoy].filter { FileManager.default.contents(atPath: $0 + "/metadata.json") == forged }
        #expect(forgedNow.count == 1, "the attacker's forged cache was overwritten")
        // And the owner is told why, with the remedy.
        #expect(sample.contains("parent directory \(x)") && sample.contains("swap the cache directory"), "\(sample)")
    }

    /// A FIFO, a socket or a device node at each store path: every command ends
    /// within its timeout (before issue 19 a FIFO at NAME.lock.owner hung every
    /// writer forever), and where it fails it names the file and what is wrong
    /// with it.
    @Test func specialFilesAtStorePathsNeverHangACommand() throws {
        let scratch = TemporaryDirectory("special-files")
        try scratch.write("src.json", Data(#"{"ok":true}"#.utf8))
        let kinds = ["fifo", "socket"] + (geteuid() == 0 ? ["device"] : [])
        if geteuid() != 0 { print("specialFilesAtStorePathsNeverHangACommand: device nodes skipped (mknod needs root)") }
        let names = ["metadata.json", "metadata.lock", "metadata.lock.owner", "config.json"]
        var hangs: [String] = []
        var unclear: [String] = []
        var cases = 0
        for name in names {
            for kind in kinds {
                let cacheDir = scratch.file("c-\(kind)-\(name)")
                try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
                let path = cacheDir + "/" + name
                try Self.plant(kind, at: path)
                let commands: [[String]] = [
                    ["read"], ["read", "--meta"], ["status"], ["verify"], ["verify", "--repair"], ["sweep"],
                    ["refresh", "--source", scratch.file("src.json")],
                    ["refresh", "--force", "--lock-backend", "lockfile", "--source", scratch.file("src.json")],
                ]
                for command in commands {
                    cases += 1
                    let label = "\(kind) at \(name): cache \(command.joined(separator: " "))"
                    let result: ChildProcess.Result
                    do {
                        result = try Metacache.run(
                            ["cache"] + command + ["--dir", cacheDir, "--lock-timeout", "2"], timeout: .seconds(20))
                    } catch {
                        hangs.append("\(label): \(error)")
                        continue
                    }
                    if case .signaled = result.termination { hangs.append("\(label): \(result.summary)") }
                    if let code = result.exitCode, code != 0,
                        !(result.stderr.contains(name) || result.stderr.contains(cacheDir))
                    {
                        unclear.append("\(label): exit \(code): \(result.stderr)")
                    }
                    if result.stderr.contains("No such device") { unclear.append("\(label): raw ENXIO: \(result.stderr)") }
                }
            }
        }
        #expect(hangs.isEmpty, "\(hangs)")
        #expect(unclear.isEmpty, "\(unclear)")
        print("special files: \(cases) command runs, \(hangs.count) hung or killed")
    }

    /// The lock-file backend with a FIFO at NAME.lock.owner: refused at once,
    /// saying what it is and what to do (it used to hang, deaf to signals).
    @Test func aFIFOAtTheOwnerFileIsRefusedWithTheRemedy() throws {
        let scratch = TemporaryDirectory("owner-fifo")
        try scratch.write("src.json", Data(#"{"ok":true}"#.utf8))
        let cacheDir = scratch.file("c")
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try Self.plant("fifo", at: cacheDir + "/metadata.lock.owner")
        let result = try Metacache.run(
            ["cache", "refresh", "--lock-backend", "lockfile", "--dir", cacheDir, "--source", scratch.file("src.json")],
            timeout: .seconds(20))
        #expect(result.exitCode == 77, "\(result.summary)")
        #expect(result.stderr.contains("metadata.lock.owner") && result.stderr.contains("FIFO"), "\(result.stderr)")
        #expect(result.stderr.contains("rm "), "\(result.stderr)")
    }

    /// config.json of an unsafe directory is never read: the directory is refused
    /// first (exit 77), not its config reported (exit 78). Control: the same
    /// config in a safe directory is reported as bad.
    @Test func anUnsafeDirectoryIsRefusedBeforeItsConfigIsRead() throws {
        let scratch = TemporaryDirectory("config-order")
        let unsafe = scratch.file("shared")
        try FileManager.default.createDirectory(atPath: unsafe, withIntermediateDirectories: false, attributes: [:])
        chmod(unsafe, 0o777)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: unsafe + "/config.json"))
        let refused = try Metacache.run(["cache", "refresh", "--dir", unsafe])
        #expect(refused.exitCode == 77, "\(refused.summary)")
        #expect(refused.stderr.contains("refusing to use the cache directory"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("config.json") && !refused.stderr.contains("JSON"), "\(refused.stderr)")

        chmod(unsafe, 0o700)
        let control = try Metacache.run(["cache", "refresh", "--dir", unsafe])
        #expect(control.exitCode == 78, "\(control.summary)")

        // A symlink at config.json is not followed.
        try FileManager.default.removeItem(atPath: unsafe + "/config.json")
        try scratch.write("elsewhere.json", Data(#"{"source":"/nonexistent"}"#.utf8))
        try FileManager.default.createSymbolicLink(atPath: unsafe + "/config.json", withDestinationPath: scratch.file("elsewhere.json"))
        let linked = try Metacache.run(["cache", "refresh", "--dir", unsafe])
        #expect(linked.exitCode == 78 && linked.stderr.contains("symbolic link"), "\(linked.summary)")
    }

    static func plant(_ kind: String, at path: String) throws {
        switch kind {
        case "fifo":
            try #require(mkfifo(path, 0o600) == 0)
        case "device":
            // /dev/null's numbers (1, 3; Linux's encoding of small numbers):
            // harmless if anything did write to it.
            try #require(mknod(path, S_IFCHR | 0o600, dev_t(1 << 8 | 3)) == 0)
        default:
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0, "bind \(path): \(errno)")
        }
    }
}
}
