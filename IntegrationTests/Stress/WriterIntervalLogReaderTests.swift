import Foundation
import StressHarness
import Testing
import TestSupport

/// Reading the interval log back: whole records, a partial last line, and the
/// torn append a SIGKILLed writer can leave.
@Suite struct WriterIntervalLogReaderTests {
    static let enter = WriterRecord.enter(time: 100, attempt: 90, pid: 7, worker: 1, slot: 0, role: .refresher, operation: 1)
    static let exit = WriterRecord.exit(
        time: 200, pid: 7, worker: 1, slot: 0, role: .refresher, operation: 1, committed: true, generation: 2,
        commitNanoseconds: 10)

    func read(_ text: String) throws -> (records: [WriterRecord], reader: WriterIntervalLog.Reader) {
        let directory = TemporaryDirectory("interval-log")
        let path = directory.path + "/intervals.log"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let reader = WriterIntervalLog.Reader(path: path)
        return (reader.poll(), reader)
    }

    @Test func wholeRecordsAreReadAndAPartialLastLineWaits() throws {
        let (records, reader) = try read(Self.enter.line + Self.exit.line + "ex")
        #expect(records == [Self.enter, Self.exit])
        #expect(reader.malformedLines == 0)
        #expect(reader.tornAppends == 0)
    }

    @Test func aTornAppendKeepsTheWholeRecordAfterIt() throws {
        // What the kill chaos run at seed 2 left: "ex" of an exit line, then the
        // next writer's enter on the same line.
        let (records, reader) = try read(Self.enter.line + "ex" + Self.enter.line + Self.exit.line)
        #expect(records == [Self.enter, Self.enter, Self.exit])
        #expect(reader.tornAppends == 1)
        #expect(reader.malformedLines == 0)
    }

    @Test func pollingFollowsAppendsAndAnUnchangedFileYieldsNothing() throws {
        let directory = TemporaryDirectory("interval-log")
        let path = directory.path + "/intervals.log"
        let log = try WriterIntervalLog(path: path)
        let reader = WriterIntervalLog.Reader(path: path)
        #expect(reader.poll().isEmpty)
        log.append(Self.enter)
        #expect(reader.poll() == [Self.enter])
        #expect(reader.poll().isEmpty, "nothing new")
        // A line completed across two polls, and a file larger than one read.
        let line = Array(Self.exit.line.utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(line[..<5]))
        #expect(reader.poll().isEmpty)
        handle.write(Data(line[5...]))
        #expect(reader.poll() == [Self.exit])
        for _ in 0..<2000 { log.append(Self.enter) }
        #expect(reader.poll().count == 2000)
        #expect(reader.poll().isEmpty)
        #expect(reader.malformedLines == 0)
        try handle.close()
    }

    @Test func garbageIsStillMalformed() throws {
        let (records, reader) = try read("not a record at all\n" + Self.exit.line)
        #expect(records == [Self.exit])
        #expect(reader.malformedLines == 1)
        #expect(reader.tornAppends == 0)
    }
}
