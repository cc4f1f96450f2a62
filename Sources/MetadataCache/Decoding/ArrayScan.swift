/// The elements of one JSON array, found lazily and in order.
///
/// The scan keeps only its *frontier*: the index and offset of the next element
/// not yet passed, and that element's end once a decode has found it. Decoding
/// an array front to back (what `Array.init(from:)` does) visits each byte once
/// and stores nothing per element, so a 16 MiB array of numbers costs no index.
/// A container copy that lags behind the frontier (a copy of an unkeyed container
/// keeps its own `currentIndex`, as in `JSONDecoder`) re-walks from the start:
/// slower, same result.
final class ArrayScan: CodingPathNode, ContainerScan {
    let input: JSONInput
    /// Offset of the `[`.
    private(set) var start: Int
    /// Nesting depth of this array's value (the root value is 0).
    private(set) var depth: Int

    private var frontierIndex = 0
    /// Offset of element `frontierIndex`'s value; meaningless once complete.
    private var frontierStart: Int
    private var frontierEnd = -1
    private(set) var isComplete = false
    private var end = -1
    private var knownCount: Int?

    init(input: JSONInput, start: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?) {
        self.input = input
        self.start = start
        self.depth = depth
        let first = input.skipWhitespace(start &+ 1)
        frontierStart = first
        super.init(parent: parent, key: key)
        if input.byte(first) == 0x5D {  // ]
            isComplete = true
            end = first &+ 1
            knownCount = 0
        }
    }

    /// Points this scan at another array, as `init` would. Only for a scan
    /// nothing else references (`JSONValueDecoder.reusableArrayScan`).
    func reuse(start: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?) {
        self.start = start
        self.depth = depth
        self.parent = parent
        self.key = key
        frontierIndex = 0
        frontierEnd = -1
        let first = input.skipWhitespace(start &+ 1)
        frontierStart = first
        if input.byte(first) == 0x5D {  // ]
            isComplete = true
            end = first &+ 1
            knownCount = 0
        } else {
            isComplete = false
            end = -1
            knownCount = nil
        }
    }

    /// Offset of element `index`'s value; nil past the last element. (For the
    /// container: a failure is its `DecodingError`.)
    func element(_ index: Int) throws -> Int? {
        try surfacingDecodingErrors { try elementStart(index) }
    }

    /// Offset of element `index`'s value; nil past the last element.
    func elementStart(_ index: Int) throws(JSONDecodingFailure) -> Int? {
        if index == frontierIndex { return isComplete ? nil : frontierStart }
        if index > frontierIndex {
            while frontierIndex < index, !isComplete { try advance() }
            return isComplete ? nil : frontierStart
        }
        return try walkFromStart(to: index)
    }

    /// Called after element `index` (at `value`) was decoded: remember its end.
    @inline(__always)
    func noteEnd(ofElement index: Int, _ valueEnd: Int) {
        if index == frontierIndex, valueEnd > frontierStart { frontierEnd = valueEnd }
    }

    /// Moves the frontier past one element. A failure is recorded in the input
    /// (the decode fails with it) and ends the scan.
    private func advance() throws(JSONDecodingFailure) {
        do throws(JSONDecodingFailure) {
            var p = frontierEnd >= 0 ? frontierEnd : try input.skipValue(frontierStart)
            p = input.skipWhitespace(p)
            frontierIndex &+= 1
            frontierEnd = -1
            switch input.byte(p) {
            case 0x2C:  // ,
                frontierStart = input.skipWhitespace(p &+ 1)
            case 0x5D:  // ]
                isComplete = true
                end = p &+ 1
                knownCount = frontierIndex
            default:
                throw JSONDecodingFailure.invalidJSON
            }
        } catch {
            input.recordStructuralFailure(error)
            isComplete = true
            end = input.count
            knownCount = frontierIndex
            throw error
        }
    }

    /// Element `index` found by skipping from the first (for a lagging copy).
    private func walkFromStart(to index: Int) throws(JSONDecodingFailure) -> Int? {
        var p = input.skipWhitespace(start &+ 1)
        if input.byte(p) == 0x5D { return nil }
        for _ in 0..<index {
            p = input.skipWhitespace(try input.skipValue(p))
            switch input.byte(p) {
            case 0x2C: p = input.skipWhitespace(p &+ 1)
            case 0x5D: return nil
            default: throw .invalidJSON
            }
        }
        return p
    }

    /// The number of elements (scanned ahead without moving the frontier, once).
    func count() throws(JSONDecodingFailure) -> Int {
        if let knownCount { return knownCount }
        var n = frontierIndex
        var p = frontierEnd >= 0 ? frontierEnd : try input.skipValue(frontierStart)
        while true {
            p = input.skipWhitespace(p)
            n &+= 1
            switch input.byte(p) {
            case 0x2C: p = try input.skipValue(input.skipWhitespace(p &+ 1))
            case 0x5D:
                knownCount = n
                return n
            default: throw .invalidJSON
            }
        }
    }

    func finish() throws(JSONDecodingFailure) -> Int {
        while !isComplete { try advance() }
        return end
    }
}
