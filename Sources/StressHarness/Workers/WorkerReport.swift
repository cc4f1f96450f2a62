import Foundation

/// Sends a worker's final `STATS` line.
enum WorkerReport {
    static func send(_ stats: WorkerStats) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(stats)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        CoordinatorChannel.say("STATS " + json)
    }
}
