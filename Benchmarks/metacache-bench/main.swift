// metacache-bench: MetadataCache in-process, as a worker of Benchmarks/bench.py.
//
//     metacache-bench DIR            serve the line protocol on stdin/stdout
//     metacache-bench DIR rss-read   one verified read, then exit (peak RSS probe)
//     metacache-bench DIR rss-idle   open the store, read nothing, exit (baseline)
//     metacache-bench DIR typed-count  a host tool's main: read(as: FoojayCatalogue.self),
//                                      print the number of packages, exit (cold process)
//     metacache-bench DIR typed-rss[-foundation]  the same with CacheJSONDecoder (or
//                                      JSONDecoder); prints "payload P model M": the
//                                      payload's bytes and the malloc'd bytes the decoded
//                                      value holds (peak RSS is measured from outside)
//     metacache-bench DIR watch [POLLING_MS]
//                                    CacheStore.changes(): prints "version GEN T BYTES"
//                                    for every element as the loop body receives it
//                                    (figure 10); POLLING_MS forces polling
//
// The protocol is described in bench.py ("Worker protocol"); every timing is
// CLOCK_MONOTONIC nanoseconds around exactly one library call sequence:
//
//     refresh   acquireWriterLock + commit(validation: .trusted | .strictJSON) + release
//     read      read()  (open, fstat, read, header + XXH64 verification)
//     decode    read(as: Catalogue.self)  (the above + JSONDecoder into a typed model)
//     typed     read(as: FoojayCatalogue.self) with CacheJSONDecoder or JSONDecoder:
//               wall and CPU (CLOCK_PROCESS_CPUTIME_ID) per call
//     lock      acquireWriterLock + release
//
// The store is DIR/metacache.json (+ .lock). Benchmark-only; built by `swift build`
// so that it keeps compiling, but not run by `swift test` or CI.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

// MARK: Clocks and output

func nowNS() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func selfUsage() -> rusage {
    var ru = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &ru)
    #else
    getrusage(RUSAGE_SELF, &ru)
    #endif
    return ru
}

func cpuNS() -> Int64 {
    let ru = selfUsage()
    let user = Int64(ru.ru_utime.tv_sec) * 1_000_000_000 + Int64(ru.ru_utime.tv_usec) * 1000
    let system = Int64(ru.ru_stime.tv_sec) * 1_000_000_000 + Int64(ru.ru_stime.tv_usec) * 1000
    return user + system
}

/// Bytes currently allocated by malloc, to size a decoded model: glibc's
/// `malloc_stats()` total "in use bytes" (it prints to stderr, captured through a
/// pipe; the Glibc module does not export malloc.h). 0 where unavailable.
func mallocatedBytes() -> Int {
    #if canImport(Glibc)
    typealias Stats = @convention(c) () -> Void
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_stats") else { return 0 }
    let mallocStats = unsafeBitCast(symbol, to: Stats.self)
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return 0 }
    let savedStderr = dup(2)
    dup2(fds[1], 2)
    mallocStats()  // (writes with fprintf and flushes)
    dup2(savedStderr, 2)
    close(savedStderr)
    close(fds[1])
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if n <= 0 { break }
        text += chunk[0..<n]
    }
    close(fds[0])
    // "Total (incl. mmap):" is followed by "system bytes = ..." and "in use bytes = N".
    let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
    guard let total = lines.firstIndex(where: { $0.hasPrefix("Total") }) else { return 0 }
    for line in lines[total...] where line.hasPrefix("in use bytes") {
        return Int(line.split(separator: "=").last!.filter { $0 != " " }) ?? 0
    }
    return 0
    #else
    return 0
    #endif
}

/// CPU time of the whole process (all threads), ns.
func processCPUNS() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { exit(1) }
            offset += n
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandleless.stderr("metacache-bench: \(message)\n")
    exit(1)
}

enum FileHandleless {
    static func stderr(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Runs `body` n times, timing each call; prints `ok t1 t2 ...`.
func timed(_ n: Int, _ body: () throws -> Void) rethrows {
    var times: [Int64] = []
    times.reserveCapacity(n)
    for _ in 0..<n {
        let t0 = nowNS()
        try body()
        times.append(nowNS() - t0)
    }
    say("ok " + times.map(String.init).joined(separator: " "))
}

func stdinHasLine() -> Bool {
    var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
}

// MARK: Payloads

final class Payloads {
    private var loaded: [String: [UInt8]] = [:]
    func load(_ path: String) -> [UInt8] {
        if let bytes = loaded[path] { return bytes }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { fail("cannot open payload \(path)") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { fail("cannot read payload \(path)") }
            got += n
        }
        if loaded.count > 8 { loaded.removeAll() }
        loaded[path] = bytes
        return bytes
    }
}

func equal(_ data: Data, _ bytes: [UInt8]) -> Bool {
    guard data.count == bytes.count else { return false }
    return data.withUnsafeBytes { d in bytes.withUnsafeBytes { b in memcmp(d.baseAddress!, b.baseAddress!, b.count) == 0 } }
}

// MARK: The typed model of the generated catalogue (see bench.py, make_catalogue)

struct Catalogue: Decodable {
    struct Package: Decodable {
        var id: String
        var vendor: String
        var distribution: String
        var version: String
        var javaVersion: String
        var major: Int
        var os: String
        var arch: String
        var libc: String?
        var archiveType: String
        var imageType: String
        var lts: Bool
        var releaseDate: String
        var url: String
        var checksum: String
        var checksumType: String
        var size: Int
        var features: [String]
    }
    var schema: Int
    var generatedAt: String
    var source: String
    var packages: [Package]
}

// MARK: Validator and checksum probes

/// Whether the validator actually rejects invalid JSON (it may still be a placeholder).
func validatorRejectsInvalidInput() -> (Bool, [String]) {
    let invalid = ["{", "[1,]", "[01]", "{\"a\":NaN}", "[1] x", "{\"a\" 1}", "[\"\u{1}\"]", "[tru]", "{'a':1}", "[1e]"]
    var accepted: [String] = []
    for text in invalid {
        var bytes = Array(text.utf8)
        let ok = bytes.withUnsafeMutableBytes { raw -> Bool in
            do {
                try StrictJSONValidator().validate(UnsafeRawBufferPointer(raw))
                return true
            } catch {
                return false
            }
        }
        if ok { accepted.append(text) }
    }
    return (accepted.isEmpty, accepted)
}

// MARK: Serving

func serve(directory: String) throws {
    let payloads = Payloads()
    var plainOptions = CacheStoreOptions()
    plainOptions.lockTimeout = .infinite
    let store = try CacheStore(directory: directory, name: "metacache", options: plainOptions)
    var observedOptions = plainOptions
    // The handover waiter reports that it is about to block (bench.py then checks in
    // /proc that the thread really sleeps in flock before releasing the holder).
    observedOptions.observer = CacheEventHandler { event in
        if case .lockWaitStarted = event { say("waiting") }
    }
    let observed = try CacheStore(directory: directory, name: "metacache", options: observedOptions)
    var held: CacheWriterLockGuard? = nil
    let decoder = JSONDecoder()

    while let line = readLine() {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { continue }
        let args = Array(words.dropFirst())
        switch command {
        case "refresh":  // refresh PAYLOAD N trusted|strict
            let payload = payloads.load(args[0])
            let validation: PayloadValidation = args[2] == "strict" ? .strictJSON : .trusted
            try timed(Int(args[1])!) {
                let writer = try store.acquireWriterLock()
                try writer.commit(payload, source: "bench", validation: validation)
                writer.release()
            }
        case "refresh-split":  // refresh-split PAYLOAD N: per refresh "acquire,commit,release" ns
            let payload = payloads.load(args[0])
            var parts: [String] = []
            for _ in 0..<Int(args[1])! {
                let t0 = nowNS()
                let writer = try store.acquireWriterLock()
                let t1 = nowNS()
                try writer.commit(payload, source: "bench", validation: .trusted)
                let t2 = nowNS()
                writer.release()
                let t3 = nowNS()
                parts.append("\(t1 - t0),\(t2 - t1),\(t3 - t2)")
            }
            say("ok " + parts.joined(separator: " "))
        case "read":  // read N
            try timed(Int(args[0])!) {
                guard let snapshot = try store.read(), !snapshot.payload.isEmpty else { fail("no cache to read") }
            }
        case "decode":  // decode N
            try timed(Int(args[0])!) {
                guard let (value, _) = try store.read(as: Catalogue.self, decoder: decoder), !value.packages.isEmpty
                else { fail("no cache to decode") }
            }
        case "typed":  // typed N cache|foundation: "wall,cpu" ns per read(as:)
            let foundation = args[1] == "foundation"
            var parts: [String] = []
            for _ in 0..<Int(args[0])! {
                let w0 = nowNS(), c0 = processCPUNS()
                let decoded = foundation
                    ? try store.read(as: FoojayCatalogue.self, decoder: decoder)
                    : try store.read(as: FoojayCatalogue.self)
                let c1 = processCPUNS(), w1 = nowNS()
                guard let (catalogue, _) = decoded, !catalogue.packages.isEmpty else { fail("no cache to decode") }
                parts.append("\(w1 - w0),\(c1 - c0)")
            }
            say("ok " + parts.joined(separator: " "))
        case "lock":  // lock N
            try timed(Int(args[0])!) {
                let writer = try store.acquireWriterLock()
                writer.release()
            }
        case "hold":
            held = try store.acquireWriterLock()
            say("held")
        case "release":
            guard let writer = held.take() else { fail("release without hold") }
            let t = nowNS()
            writer.release()
            say("released \(t) \(nowNS() - t)")
        case "wait":
            let c0 = cpuNS(), w0 = nowNS()
            held = try observed.acquireWriterLock(timeout: .infinite)
            let t = nowNS()
            say("acquired \(t) \(cpuNS() - c0) \(t - w0)")
        case "readloop":  // readloop SECONDS A B
            let a = payloads.load(args[1]), b = payloads.load(args[2])
            var reads = 0, bad = 0
            let end = nowNS() + Int64(Double(args[0])! * 1e9)
            while nowNS() < end {
                reads += 1
                do {
                    guard let snapshot = try store.read(), equal(snapshot.payload, a) || equal(snapshot.payload, b) else {
                        bad += 1
                        continue
                    }
                } catch {
                    bad += 1
                }
            }
            say("reads \(reads) bad \(bad)")
        case "writeloop":  // writeloop A B (until a line arrives)
            let a = payloads.load(args[0]), b = payloads.load(args[1])
            var writes = 0
            while !stdinHasLine() {
                let writer = try store.acquireWriterLock()
                try writer.commit(writes & 1 == 0 ? a : b, source: "bench", validation: .trusted)
                writer.release()
                writes += 1
            }
            _ = readLine()
            say("writes \(writes)")
        case "hash":  // hash PAYLOAD N: XXH64 over the payload, ns per pass
            let payload = payloads.load(args[0])
            var sink: UInt64 = 0
            payload.withUnsafeBytes { raw in timed(Int(args[1])!) { sink &+= XXH64.hash(raw) } }
            if sink == 42 { say("") }
        case "validate":  // validate PAYLOAD N: StrictJSONValidator, ns per pass
            var payload = payloads.load(args[0])
            try payload.withUnsafeMutableBytes { raw in
                try timed(Int(args[1])!) { try StrictJSONValidator().validate(UnsafeRawBufferPointer(raw)) }
            }
        case "validator-probe":
            let (real, accepted) = validatorRejectsInvalidInput()
            say(real ? "real" : "accepts-invalid " + accepted.map { $0.debugDescription }.joined(separator: " "))
        case "stage":  // stage PAYLOAD_A PAYLOAD_B N DIR: N committed cache files DIR/staged-I.json (figure 10)
            let a = payloads.load(args[0]), b = payloads.load(args[1])
            let staging = try CacheStore(directory: args[3], name: "metacache", options: plainOptions)
            for i in 0..<Int(args[2])! {
                let writer = try staging.acquireWriterLock()
                try writer.commit(i & 1 == 0 ? a : b, source: "bench", validation: .trusted)
                writer.release()
                // A second name for this commit's inode: the next commit replaces
                // metacache.json, staged-I.json keeps this complete, fsynced file.
                guard link(staging.cachePath, args[3] + "/staged-\(i).json") == 0 else { fail("link: \(errno)") }
            }
            say("ok")
        case "ping":
            say("pong \(getpid())")
        case "quit":
            return
        default:
            fail("unknown command '\(command)'")
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail("usage: metacache-bench DIR [rss-read|rss-idle|typed-count|watch]") }
/// Figure 10: prints each version as the `for await` body receives it. A line
/// "cpu" on stdin is answered with "cpu NS SWITCHES": the process's CPU time and
/// context switches so far (getrusage: threads that exited included).
func watch(directory: String, pollingMilliseconds: Int64?) async throws {
    OSThread.detach {
        while let line = readLine(), line == "cpu" {
            let ru = selfUsage()
            say("cpu \(cpuNS()) \(ru.ru_nvcsw + ru.ru_nivcsw)")
        }
    }
    let store = try CacheStore(directory: directory, name: "metacache")
    let detection: CacheChangeDetection = pollingMilliseconds.map { .polling(interval: .milliseconds($0)) } ?? .automatic()
    for try await snapshot in store.changes(detection: detection) {
        let t = nowNS()
        say("version \(snapshot.generation) \(t) \(snapshot.payload.count)")
    }
}

do {
    if arguments.count >= 3, arguments[2] == "watch" {
        try await watch(directory: arguments[1], pollingMilliseconds: arguments.count > 3 ? Int64(arguments[3]) : nil)
    } else if arguments.count == 3 {
        let store = try CacheStore(directory: arguments[1], name: "metacache")
        if arguments[2] == "typed-count" {
            guard let (catalogue, _) = try store.read(as: FoojayCatalogue.self) else { fail("no cache") }
            say("\(catalogue.packages.count) packages")
        } else if arguments[2].hasPrefix("typed-rss") {
            guard let snapshot = try store.read() else { fail("no cache") }
            let before = mallocatedBytes()
            let catalogue = arguments[2] == "typed-rss-foundation"
                ? try JSONDecoder().decode(FoojayCatalogue.self, from: snapshot.payload)
                : try CacheJSONDecoder().decode(FoojayCatalogue.self, fromValidated: snapshot.payload)
            let model = mallocatedBytes() - before
            say("payload \(snapshot.payload.count) model \(model) packages \(catalogue.packages.count)")
        } else if arguments[2] == "rss-read" {
            guard let snapshot = try store.read() else { fail("no cache") }
            say("read \(snapshot.payload.count)")
        } else {
            say("idle \(store.cachePath)")
        }
    } else {
        try serve(directory: arguments[1])
    }
} catch {
    fail("\(error)")
}
