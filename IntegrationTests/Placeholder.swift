import Testing
import TestSupport
@Test func integrationPlaceholder() { #expect(BuiltProducts.exists("metacache")) }
