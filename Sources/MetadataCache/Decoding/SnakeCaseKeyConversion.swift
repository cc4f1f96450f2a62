#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `JSONDecoder.KeyDecodingStrategy.convertFromSnakeCase`, character for character
/// as Foundation converts (Foundation's function is private): "one_two_three" →
/// "oneTwoThree", leading and trailing underscores kept ("_one_two_" →
/// "_oneTwo_"), a key without inner underscores unchanged, the first word
/// lowercased and the others `capitalized`.
enum SnakeCaseKeyConversion {
    static func camelCase(_ stringKey: String) -> String {
        guard !stringKey.isEmpty else { return stringKey }
        guard let firstNonUnderscore = stringKey.firstIndex(where: { $0 != "_" }) else { return stringKey }
        var lastNonUnderscore = stringKey.index(before: stringKey.endIndex)
        while lastNonUnderscore > firstNonUnderscore && stringKey[lastNonUnderscore] == "_" {
            stringKey.formIndex(before: &lastNonUnderscore)
        }
        let keyRange = firstNonUnderscore...lastNonUnderscore
        let leading = stringKey.startIndex..<firstNonUnderscore
        let trailing = stringKey.index(after: lastNonUnderscore)..<stringKey.endIndex
        let components = stringKey[keyRange].split(separator: "_")
        let joined: String
        if components.count == 1 {
            joined = String(stringKey[keyRange])
        } else {
            joined = ([components[0].lowercased()] + components[1...].map { $0.capitalized }).joined()
        }
        if leading.isEmpty && trailing.isEmpty { return joined }
        return String(stringKey[leading]) + joined + String(stringKey[trailing])
    }
}
