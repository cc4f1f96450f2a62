import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// The other commands' output, from real processes: `read --meta`, `status`
/// (text and the exact JSON fields), `sweep`, `--events`, and the sample catalogue;
/// and the one rule for streams: results on stdout, diagnostics on stderr.
@Suite struct CommandOutputTests {
    /// Every command: a success writes its result to stdout and nothing to
    /// stderr; a failure writes nothing to stdout and its message to stderr;
    /// `--verbose` adds only to stderr. (`refresh` wrote its result to stderr.)
    @Test func resultsGoToStdoutAndDiagnosticsToStderr() throws {
        let cache = try PopulatedCache()
        let dir = ["--dir", cache.cacheDir]
        let good = cache.directory.file("good.json")
        let successes: [([String], String)] = [
            (["cache", "refresh", "--source", good] + dir, "Refreshed 'metadata': generation "),
            (["cache", "refresh", "--source", good, "--if-older-than", "1h"] + dir, "Skipped: cache is fresh (age "),
            (["cache", "read", "--meta"] + dir, "{\"path\":"),
            (["cache", "status"] + dir, "Cache 'metadata' at "),
            (["cache", "status", "--json"] + dir, "{\"path\":"),
            (["cache", "verify"] + dir, "OK: \(cache.cacheFile) verifies"),
            (["cache", "sweep"] + dir, "Nothing to sweep in "),
            (["--version"], "metacache "),
            (["cache", "refresh", "--help"], "Usage: metacache cache refresh"),
        ]
        for (arguments, result) in successes {
            let plain = try Metacache.run(arguments)
            #expect(plain.exitCode == 0, "\(arguments): \(plain.summary)")
            #expect(plain.stdoutText.hasPrefix(result), "\(arguments): \(plain.summary)")
            #expect(plain.stderr.isEmpty, "\(arguments) wrote to stderr: \(plain.stderr)")
            guard arguments.first == "cache", !arguments.contains("--help") else { continue }
            let verbose = try Metacache.run(arguments + ["--verbose"])
            #expect(verbose.stdoutText.hasPrefix(result) && !verbose.stdoutText.contains("debug:"), "\(arguments): \(verbose.summary)")
        }
        #expect(try Metacache.run(["cache", "read"] + dir).stdout == cache.payload, "the payload, exactly")

        try Data("{".utf8).write(to: URL(fileURLWithPath: cache.directory.file("bad.json")))
        let failures: [[String]] = [
            ["cache", "refresh", "--source", cache.directory.file("bad.json")] + dir,
            ["cache", "refresh", "--source", cache.directory.file("absent.json")] + dir,
            ["cache", "read", "--dir", cache.directory.file("none")],
            ["cache", "verify", "--dir", cache.directory.file("none")],
            ["cache", "status", "--colour"],
        ]
        for arguments in failures {
            let failed = try Metacache.run(arguments)
            #expect(failed.exitCode != 0, "\(arguments)")
            #expect(failed.stdout.isEmpty, "\(arguments) wrote to stdout: \(failed.stdoutText)")
            #expect(failed.stderr.hasPrefix("metacache: "), "\(arguments): \(failed.summary)")
        }
    }

    @Test func statusJSONHasExactlyTheDocumentedFields() throws {
        let cache = try PopulatedCache()
        let result = try Metacache.run(["cache", "status", "--json", "--dir", cache.cacheDir])
        #expect(result.exitCode == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        #expect(Set(object.keys) == [
            "path", "exists", "generation", "fetchedAt", "ageSeconds", "sizeBytes", "integrity", "source", "lock", "orphanTemps",
            "lastRefreshError", "lastRefreshErrorAt", "refreshAttempts", "nextRefreshAttemptAt", "backgroundRefreshPID",
        ])
        #expect(object["path"] as? String == cache.cacheFile)
        #expect(object["exists"] as? Bool == true)
        #expect(object["generation"] as? Int == 1)
        #expect(object["integrity"] as? String == "ok")
        #expect(object["sizeBytes"] as? Int == cache.cacheBytes().bytes.count)
        #expect(object["source"] as? String == cache.directory.file("good.json"))
        #expect((object["ageSeconds"] as? Int).map { $0 >= 0 && $0 < 600 } == true)
        #expect((object["fetchedAt"] as? String)?.hasSuffix("Z") == true)
        let lock = try #require(object["lock"] as? [String: Any])
        #expect(Set(lock.keys) == ["held", "backend", "holder"])
        #expect(lock["held"] as? Bool == false)
        #expect(lock["backend"] as? String == "advisory")
        #expect(lock["holder"] is NSNull)
        #expect((object["orphanTemps"] as? [Any])?.isEmpty == true)

        let missing = try Metacache.run(["cache", "status", "--json", "--dir", cache.directory.file("nothing")])
        #expect(missing.exitCode == 0, "status reports a missing cache; it is not an error")
        let empty = try #require(try JSONSerialization.jsonObject(with: Data(missing.stdout)) as? [String: Any])
        #expect(empty["exists"] as? Bool == false)
        #expect(empty["integrity"] as? String == "missing")
        #expect(empty["generation"] is NSNull && empty["fetchedAt"] is NSNull && empty["source"] is NSNull)

        let text = try Metacache.run(["cache", "status", "--dir", cache.cacheDir])
        #expect(text.stdoutText.hasPrefix("Cache 'metadata' at \(cache.cacheFile)\n"))
        #expect(text.stdoutText.contains("integrity:    ok"))
        #expect(text.stdoutText.contains("lock:         free [advisory]"))
    }

    @Test func sweepRemovesOrphansAndSaysWhichStatusListsThem() throws {
        let cache = try PopulatedCache()
        let orphan = cache.cacheDir + "/metadata.json.tmp-999999-00000000deadbeef"
        try Data("half a commit".utf8).write(to: URL(fileURLWithPath: orphan))
        let status = try Metacache.run(["cache", "status", "--json", "--dir", cache.cacheDir])
        #expect(status.stdoutText.contains("\"orphanTemps\":[\"\(orphan)\"]"), "\(status.stdoutText)")
        let sweep = try Metacache.run(["cache", "sweep", "--dir", cache.cacheDir])
        #expect(sweep.exitCode == 0, "\(sweep.summary)")
        #expect(sweep.stdoutText == "Removed 1 orphaned file:\n  \(orphan)\n", "\(sweep.stdoutText)")
        #expect(!FileManager.default.fileExists(atPath: orphan))
        let again = try Metacache.run(["cache", "sweep", "--dir", cache.cacheDir])
        #expect(again.stdoutText == "Nothing to sweep in \(cache.cacheDir)\n")
    }

    @Test func sweepNeverTouchesADirectoryWhoseLockIsHeld() throws {
        let cache = try PopulatedCache()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let temp = cache.cacheDir + "/metadata.json.tmp-\(holder.pid)-0000000000000001"
        try Data("a live writer's temp".utf8).write(to: URL(fileURLWithPath: temp))
        let sweep = try Metacache.run(["cache", "sweep", "--dir", cache.cacheDir])
        #expect(sweep.exitCode == 75, "\(sweep.summary)")
        #expect(sweep.stderr.contains("held by pid \(holder.pid)"), "\(sweep.stderr)")
        #expect(FileManager.default.fileExists(atPath: temp), "a live writer's temp must survive")
        #expect(try holder.release() == .exited(0))
    }

    @Test func readMetaAndEventsFile() throws {
        let cache = try PopulatedCache()
        let events = cache.directory.file("events.jsonl")
        let refresh = try Metacache.run(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--events", events])
        #expect(refresh.exitCode == 0)
        let lines = String(decoding: FileManager.default.contents(atPath: events) ?? Data(), as: UTF8.self).split(separator: "\n")
        let names = lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
        }
        #expect(names.count == lines.count, "every line is a JSON object")
        #expect(names.contains("lockAcquired") && names.contains("commitSucceeded") && names.contains("lockReleased"), "\(names)")

        let meta = try Metacache.run(["cache", "read", "--meta", "--dir", cache.cacheDir])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(meta.stdout)) as? [String: Any])
        #expect(object["generation"] as? Int == 2)
        #expect(object["payloadBytes"] as? Int == cache.payload.count)
        #expect(object["source"] as? String == cache.directory.file("good.json"))
    }

    @Test func theBundledSampleCatalogueRoundTrips() throws {
        let sample = Metacache.packageRoot + "/Fixtures/catalog-sample.json"
        try #require(FileManager.default.fileExists(atPath: sample))
        let dir = TemporaryDirectory("sample")
        let refresh = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", sample])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        let read = try Metacache.run(["cache", "read", "--dir", dir.file("c")])
        #expect(read.stdout == Array(FileManager.default.contents(atPath: sample) ?? Data()))
    }
}
}
