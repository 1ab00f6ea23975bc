import BridgeCore
import Foundation
import Simulators
import Testing

/// Every document path of the FlowerHub simulator against `flowerhub-portal.md`, over real sockets.
@Suite("FlowerHub simulator: documents")
struct FlowerHubRESTTests {
    @Test("asset owner, with asset id, profile and agreement have the documented members")
    func ownerDocuments() async throws {
        try await withFlowerHub { _, client in
            try await client.login()
            let owner = try #require(try await client.get("/asset-owner/\(client.owner)").json)
            #expect(owner.keys == ["id", "firstName", "lastName", "installer", "distributor", "asset", "compensation", "bessCompensationStartDate"])
            #expect(owner["asset"]?["serialNumber"]?.string == client.account.serialNumber)
            #expect(owner["asset"]?["assetModel"]?.keys == ["id", "name", "manufacturer"])
            #expect(owner["compensation"]?["status"]?.string == "Qualified")

            let withAsset = try #require(try await client.get("/asset-owner/\(client.owner)/withAssetId").json)
            #expect(withAsset == ["id": .number(Double(client.owner)), "assetId": .number(Double(client.asset)), "firstName": .string(client.account.firstName)])

            let profile = try #require(try await client.get("/asset-owner/\(client.owner)/profile").json)
            #expect(profile.keys == ["id", "firstName", "lastName", "mainEmail", "contactEmail", "phone", "address", "accountStatus", "installer"])
            #expect(profile["contactEmail"] == .null)
            #expect(profile["accountStatus"]?.string == "Verified")
            #expect(profile["installer"]?["address"]?.keys == ["street", "postalCode", "city"])

            let agreement = try #require(try await client.get("/asset-owner/\(client.owner)/electricity-agreement").json)
            for part in ["consumption", "production"] {
                #expect(agreement[part]?.keys == ["stateCategory", "stateId", "siteId", "startDate", "terminationDate"], "\(part)")
                #expect(agreement[part]?["stateCategory"]?.string == "Active")
                #expect(agreement[part]?["terminationDate"] == .null)
            }
        }
    }

    @Test("the asset: inverter and battery specs, flowerHubStatus, isInstalled")
    func asset() async throws {
        try await withFlowerHub { _, client in
            try await client.login()
            let asset = try #require(try await client.get("/asset/\(client.asset)").json)
            #expect(asset.keys == ["id", "inverter", "battery", "fuseSize", "flowerHubStatus", "isInstalled"])
            #expect(asset["inverter"]?.keys == [
                "manufacturerId", "manufacturerName", "inverterModelId", "name", "numberOfBatteryStacksSupported", "capacityId", "powerCapacity",
            ])
            #expect(asset["battery"]?.keys == [
                "manufacturerId", "manufacturerName", "batteryModelId", "name", "minNumberOfBatteryModules", "maxNumberOfBatteryModules",
                "capacityId", "energyCapacity", "powerCapacity",
            ])
            #expect(asset["flowerHubStatus"]?["status"]?.string == "Connected")
            #expect(asset["isInstalled"]?.bool == true)
        }
    }

    @Test("invoices: newest first, strings for money and ids, nested sub-group invoices and lines")
    func invoices() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let invoices = try #require(try await client.get("/asset-owner/\(client.owner)/invoice").json?.array)
            #expect(invoices.count == 12)
            let latest = try #require(invoices.first)
            #expect(latest.keys == [
                "id", "due_date", "ocr", "invoice_status", "invoice_status_id", "invoice_period", "total_amount", "remaining_amount",
                "invoice_lines", "invoice_pdf", "invoice_type", "site_id", "sub_group_invoices",
            ])
            #expect(latest["invoice_period"]?.string == "February 2026")
            #expect(latest["total_amount"]?.string == simulator.state.latestInvoiceAmount)
            #expect(Double(latest["total_amount"]?.string ?? "") != nil)
            #expect(latest["invoice_lines"]?.array?.first?.keys == ["item_id", "name", "description", "price", "volume", "amount", "settlements"])
            let sub = try #require(latest["sub_group_invoices"]?.array?.first)
            #expect(sub.keys == ["id", "invoice_status", "invoice_period", "total_amount", "invoice_lines", "invoice_pdf", "invoice_type", "site_id"])
            #expect(invoices.last?["invoice_period"]?.string == "March 2025")
        }
    }

    @Test("consumption: one reading per month, oldest first, this month Calculated with no valid_to")
    func consumption() async throws {
        try await withFlowerHub { _, client in
            try await client.login()
            let readings = try #require(try await client.get("/asset-owner/\(client.owner)/consumption").json?.array)
            #expect(readings.count == 13)
            #expect(readings.allSatisfy { $0.keys == ["site_id", "valid_from", "valid_to", "invoiced_month", "volume", "type", "type_id"] })
            let current = try #require(readings.last)
            #expect(current["invoiced_month"]?.string == "2026-03-01")
            #expect(current["type"]?.string == "Calculated")
            #expect(current["valid_to"] == .null)
            #expect(readings.first?["type"]?.string == "Reading")
            #expect(readings.first?["valid_to"]?.string == "2025-03-31")
        }
    }

    @Test("uptime: available months from March 2025 to now, bar-chart history, pie chart in seconds for a period")
    func uptime() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let months = try #require(try await client.get("/asset-uptime/available-months/\(client.asset)").json?.array)
            #expect(months.first == ["value": "2025-03", "label": "March 2025"])
            #expect(months.last == ["value": "2026-03", "label": "March 2026"])
            #expect(months.count == 13)

            let history = try #require(try await client.get("/asset-uptime/bar-chart/history/\(client.asset)").json?.array)
            #expect(history.count == 13)
            #expect(history.allSatisfy { $0.keys == ["date", "uptime"] && ($0["uptime"]?.number).map { (0...100).contains($0) } == true })

            simulator.advance(by: .seconds(3600))
            try await client.login()  // the access cookie lasts 15 simulated minutes
            let pie = try #require(try await client.get("/asset-uptime/pie-chart/\(client.asset)?period=2026-03").json?.array)
            #expect(pie.map { $0["name"]?.string } == ["uptime", "downtime", "noData"])
            let seconds = pie.compactMap { $0["value"]?.number }
            #expect(seconds.count == 3)
            #expect(seconds[0] + seconds[1] == 3600, "an hour measured since the start")
            #expect(seconds[2] == 13 * 86_400 + 10 * 3600, "before the start of the simulation: no data")

            let past = try #require(try await client.get("/asset-uptime/pie-chart/\(client.asset)?period=2025-06").json?.array)
            #expect(past.compactMap { $0["value"]?.number }.reduce(0, +) == 30 * 86_400)
            #expect(try await client.get("/asset-uptime/pie-chart/\(client.asset)").status == 400, "period is required")
            #expect(try await client.get("/asset-uptime/pie-chart/\(client.asset)?period=March").status == 400)
            #expect(try await client.get("/asset-uptime/pie-chart/\(client.asset)?period=2024-01").status == 404)
            #expect(try await client.get("/asset-effective-uptime/bar-chart/history/\(client.asset)").status == 404, "documented deployment")
        }
    }

    @Test("system notifications: 200 with an empty body")
    func notifications() async throws {
        try await withFlowerHub { _, client in
            try await client.login()
            for name in ["active-flower", "active-zavann"] {
                let answer = try await client.get("/system-notification/\(name)")
                #expect(answer.status == 200)
                #expect(answer.body.isEmpty)
            }
        }
    }

    @Test("ETags: a matching If-None-Match gets 304 without a body; a changed document a new tag")
    func etags() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let path = "/asset-owner/\(client.owner)/consumption"
            let first = try await client.get(path)
            let etag = try #require(first.header("ETag"))
            #expect(etag.hasPrefix("W/\""))
            let again = try await client.get(path, headers: ["If-None-Match": etag])
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
            #expect(again.header("ETag") == etag)
            #expect(try await client.get(path, headers: ["If-None-Match": "W/\"other\""]).status == 200)
            simulator.advance(by: .seconds(3600))
            try await client.login()
            let changed = try await client.get(path, headers: ["If-None-Match": etag])
            #expect(changed.status == 200, "this month's consumption grew")
            #expect(changed.header("ETag") != etag)
            #expect(simulator.state.notModifiedResponses == 1)
        }
    }

    @Test("unknown paths: NestJS 404 body")
    func unknownPath() async throws {
        try await withFlowerHub { _, client in
            let answer = try await client.get("/nothing/here")
            #expect(answer.status == 404)
            #expect(answer.json == ["statusCode": 404, "message": "Cannot GET /nothing/here", "error": "Not Found"])
        }
    }
}
