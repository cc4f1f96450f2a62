import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `metacache-stress`: the entry point of the harness and of its worker processes.
///
/// Guarantee: exits 0 only when the run completed and every tested invariant
/// held; 1 when any invariant was violated (each named in the report); 2 when
/// the run could not be carried out; 64 for a usage error or an unusable
/// `--dir`; 130/143 when SIGINT/SIGTERM ended the run (after the partial
/// report). With `--json`, stdout is one JSON object in every case: the report,
/// or `StressErrorReport`. Invoked with the hidden `--worker ROLE` argument, it
/// is one worker of a run instead; with `--sabotaged-cli`, a stand-in for the CLI.
///
/// Synchronous on purpose: everything but the refresher role runs on the main
/// thread, so a traced worker makes the same system calls on the same thread every
/// time (strace counts `when=N` per thread; the crash tests rely on it).
public enum StressHarness {
    public static func main(_ arguments: [String]) -> Int32 {
        // A worker that died closes its stdin pipe; writing to it must be an error,
        // not a SIGPIPE that kills the coordinator.
        signal(SIGPIPE, SIG_IGN)
        let args = arguments.dropFirst()
        if args.first == WorkerInvocation.flag {
            do {
                return runWorker(try WorkerInvocation.parse(args.dropFirst()))
            } catch {
                CoordinatorChannel.complain("metacache-stress worker: \(error)")
                return 64
            }
        }
        if args.first == SabotagedCLI.flag { return SabotagedCLI.run(args.dropFirst()) }
        // Decided before parsing, so that even a usage error answers in JSON.
        let json = args.contains("--json")
        let options: StressOptions
        do {
            switch try StressOptions.parse(args) {
            case .help:
                print(StressOptions.usage)
                return 0
            case let .run(o):
                options = o
            }
        } catch {
            CoordinatorChannel.complain("metacache-stress: \(error)\n\n\(StressOptions.usage)")
            if json { printJSON(StressErrorReport(error: error.description, exitCode: 64, config: nil)) }
            return 64
        }
        let report: StressReport
        do {
            report = try StressCoordinator(options: options).run()
        } catch {
            CoordinatorChannel.complain("metacache-stress: \(error)")
            if json { printJSON(StressErrorReport(error: error.description, exitCode: error.exitCode, config: error.config)) }
            return error.exitCode
        }
        if options.json {
            printJSON(report)
        } else {
            print(StressReportTable.render(report), terminator: "")
        }
        return StressCoordinator.exitCode(for: report)
    }

    static func printJSON(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"ok":false,"error":"the report could not be encoded"}"#.utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    static func runWorker(_ w: WorkerInvocation) -> Int32 {
        if w.role != .commitOnce {
            // Out of the coordinator's process group: a Ctrl-C at the terminal goes
            // to the coordinator alone (and the CLI processes a worker starts stay
            // out of it too), which then stops every worker in order and reports.
            // A worker still stops if the coordinator dies: its stdin closes.
            setpgid(0, 0)
        }
        switch w.role {
        case .refresher: return AsyncBridge.wait { await RefresherWorker.run(w) }
        case .reader: return ReaderWorker.run(w)
        case .updater: return UpdaterWorker.run(w)
        case .cliRefresher: return CLIRefresherWorker.run(w)
        case .cliReader: return CLIReaderWorker.run(w)
        case .commitOnce: return CommitOnceWorker.run(w)
        }
    }
}
