import Testing

@testable import BridgeCore

@Suite("TopicSafe")
struct TopicSafeTests {
    @Test("Lower-cases and replaces everything outside a-z 0-9 _ -", arguments: [
        ("AA:BB:CC:00:11:22", "aa_bb_cc_00_11_22"),
        ("Bob's iPhone", "bob_s_iphone"),
        ("a/b+c#d$e", "a_b_c_d_e"),
        ("  __x__  ", "x"),
        ("CP-001", "cp-001"),
        ("Ünïcode ☃ name", "n_code_name"),
        ("tab\tand\nnewline", "tab_and_newline"),
        ("///", "unknown"),
        ("", "unknown"),
        ("a__b", "a_b"),
        ("_a", "a"),
        ("a_", "a"),
        ("cell_3", "cell_3"),
        ("-", "-"),
    ])
    func ids(raw: String, expected: String) {
        #expect(TopicSafe.id(raw) == expected)
        #expect(TopicSafe.isSafe(TopicSafe.id(raw)))
    }

    @Test("Canonical ids (the fast path) are exactly those id() leaves unchanged")
    func canonical() {
        for raw in ["a", "cell_3", "cp-001", "a_b_c", "-x-", "0", "a__b", "_a", "a_", "", "A", "a b", "é"] {
            #expect(TopicSafe.isCanonical(raw) == (TopicSafe.id(raw) == raw && raw != "unknown"), "\(raw)")
        }
    }
}
