import Foundation

/// A calendar month in UTC, as the portal names it (`2025-03`, "March 2025").
struct FlowerHubMonth: Hashable, Comparable, Sendable {
    var year: Int
    var month: Int

    static let names = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]

    /// The first month with uptime data on the real portal.
    static let firstUptimeMonth = FlowerHubMonth(year: 2025, month: 3)

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
    }

    init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// The month `date` falls in (UTC).
    init(containing date: Date) {
        let parts = Self.calendar.dateComponents([.year, .month], from: date)
        self.year = parts.year ?? 1970
        self.month = parts.month ?? 1
    }

    /// Parses `YYYY-MM`; `nil` for anything else.
    init?(value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month)
        else { return nil }
        self.year = year
        self.month = month
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }

    /// `YYYY-MM`.
    var value: String { String(format: "%04d-%02d", year, month) }
    /// "March 2025".
    var label: String { "\(Self.names[month - 1]) \(year)" }
    /// `YYYY-MM-01`.
    var firstDay: String { value + "-01" }
    /// `YYYY-MM-<last day>`.
    var lastDay: String { value + String(format: "-%02d", days) }

    var next: FlowerHubMonth { month == 12 ? .init(year: year + 1, month: 1) : .init(year: year, month: month + 1) }
    var previous: FlowerHubMonth { month == 1 ? .init(year: year - 1, month: 12) : .init(year: year, month: month - 1) }

    /// Midnight UTC of the first day.
    var start: Date {
        Self.calendar.date(from: DateComponents(year: year, month: month, day: 1)) ?? Date(timeIntervalSince1970: 0)
    }

    var days: Int {
        Self.calendar.range(of: .day, in: .month, for: start)?.count ?? 30
    }

    /// The length of the month in seconds.
    var seconds: Double { Double(days) * 86_400 }

    /// The months from `self` through `last`, oldest first.
    func through(_ last: FlowerHubMonth) -> [FlowerHubMonth] {
        var months: [FlowerHubMonth] = []
        var current = self
        while current <= last {
            months.append(current)
            current = current.next
        }
        return months
    }
}

extension Date {
    /// ISO-8601 with milliseconds and `Z`, as the portal writes date-times (`2026-03-14T10:00:00.000Z`).
    var portalDateTime: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.string(from: self)
    }
}
