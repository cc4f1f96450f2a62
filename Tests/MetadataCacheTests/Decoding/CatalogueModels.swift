import Foundation

/// The JDK catalogue of Fixtures/ (foojay Disco API style) as a host tool would
/// model it: snake_case JSON keys mapped by CodingKeys, enums for closed sets, an
/// optional that is usually absent, a nested object and arrays.
struct FoojayCatalogue: Decodable, Equatable {
    var schemaVersion: Int
    var generatedAt: String
    var source: String
    var packages: [Package]

    struct Package: Decodable, Equatable {
        enum ReleaseStatus: String, Decodable { case ga, ea }
        enum Support: String, Decodable { case lts, mts, sts }

        var id: String
        var distribution: String
        var distributionName: String
        var vendor: String
        var javaVersion: String
        var majorVersion: Int
        var releaseStatus: ReleaseStatus
        var termOfSupport: Support
        var operatingSystem: String
        var libCType: String
        var architecture: String
        var archiveType: String
        var packageType: String
        var javafxBundled: Bool
        var directlyDownloadable: Bool
        var filename: String
        var directDownloadURI: String
        var checksumType: String
        var checksum: String
        var size: Int
        var latestBuildAvailable: Bool
        var freeUseInProduction: Bool
        var tckTested: Bool
        var features: [String]
        var links: Links
        var notes: String?

        struct Links: Decodable, Equatable {
            var pkgInfoURI: String
            var pkgDownloadRedirect: String
            enum CodingKeys: String, CodingKey {
                case pkgInfoURI = "pkg_info_uri"
                case pkgDownloadRedirect = "pkg_download_redirect"
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, distribution, vendor, architecture, filename, checksum, size, features, links, notes
            case distributionName = "distribution_name"
            case javaVersion = "java_version"
            case majorVersion = "major_version"
            case releaseStatus = "release_status"
            case termOfSupport = "term_of_support"
            case operatingSystem = "operating_system"
            case libCType = "lib_c_type"
            case archiveType = "archive_type"
            case packageType = "package_type"
            case javafxBundled = "javafx_bundled"
            case directlyDownloadable = "directly_downloadable"
            case directDownloadURI = "direct_download_uri"
            case checksumType = "checksum_type"
            case latestBuildAvailable = "latest_build_available"
            case freeUseInProduction = "free_use_in_production"
            case tckTested = "tck_tested"
        }
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, generatedAt, source, packages
    }
}

/// The same catalogue modelled for `.convertFromSnakeCase` (no CodingKeys), with
/// `Date` and `URL` fields and only some of the keys (the rest are skipped).
struct SnakeCaseCatalogue: Decodable, Equatable {
    var schemaVersion: Int
    var generatedAt: Date
    var packages: [Package]

    struct Package: Decodable, Equatable {
        var id: String
        var javaVersion: String
        var majorVersion: UInt8
        var libCType: String
        var directDownloadUri: URL
        var size: UInt64
        var links: [String: String]
        var notes: String?
    }
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }
}
