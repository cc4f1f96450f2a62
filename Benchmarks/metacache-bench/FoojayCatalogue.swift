// The typed model of the typed-read figure (figure 9), also compiled into
// Benchmarks/experiments/codable-floor.swift.

/// Fixtures/catalog-*.json (foojay Disco API style) as a host tool models it:
/// snake_case keys mapped by CodingKeys, enums for closed sets, a usually absent
/// optional, a nested object, arrays. The same model for every contender.
struct FoojayCatalogue: Decodable {
    var schemaVersion: Int
    var generatedAt: String
    var source: String
    var packages: [Package]

    struct Package: Decodable {
        enum ReleaseStatus: String, Decodable { case ga, ea }
        enum Support: String, Decodable { case lts, mts, sts }
        struct Links: Decodable {
            var pkgInfoURI: String
            var pkgDownloadRedirect: String
            enum CodingKeys: String, CodingKey {
                case pkgInfoURI = "pkg_info_uri"
                case pkgDownloadRedirect = "pkg_download_redirect"
            }
        }

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
}
