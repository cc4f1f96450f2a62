import Foundation
import Testing
@testable import MetadataCache

/// The fixture catalogues decoded by both decoders into host-style models.
@Suite struct FixtureDecodingTests {
    static let catalogues = ["catalog-sample.json", "catalog-1mib.json"]

    @Test(arguments: catalogues)
    func foojayModelWithCodingKeys(_ name: String) throws {
        let outcome = Differential.expectSame(FoojayCatalogue.self, try Fixtures.data(name))
        guard case let .value(catalogue) = outcome else {
            Issue.record("decode failed: \(outcome)")
            return
        }
        #expect(catalogue.packages.count >= 300)
        #expect(catalogue.packages.contains { $0.notes != nil })
    }

    @Test(arguments: catalogues)
    func snakeCaseModelWithDatesAndURLs(_ name: String) throws {
        var options = DecoderOptions()
        options.key = .convertFromSnakeCase
        options.date = .iso8601
        let outcome = Differential.expectSame(SnakeCaseCatalogue.self, try Fixtures.data(name), options)
        #expect(outcome.error == nil)
    }

    /// (The sample only: a 1 MiB untyped decode takes seconds in a debug build.)
    @Test func untypedModel() throws {
        let outcome = Differential.expectSame(AnyJSON.self, try Fixtures.data("catalog-sample.json"))
        #expect(outcome.error == nil)
    }

    @Test func readAsDecodesTheCommittedFixture() throws {
        let t = try TestStore("typed-read")
        let payload = try Fixtures.data("catalog-sample.json")
        try t.store.acquireWriterLock().commit(payload, source: "fixture")
        let (catalogue, snapshot) = try #require(try t.store.read(as: FoojayCatalogue.self))
        #expect(catalogue == (try JSONDecoder().decode(FoojayCatalogue.self, from: payload)))
        #expect(snapshot.payload == payload)
        let (viaFoundation, _) = try #require(try t.store.read(as: FoojayCatalogue.self, decoder: JSONDecoder()))
        #expect(viaFoundation == catalogue)
    }
}
