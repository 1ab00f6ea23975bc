import BridgeCore
import Foundation

/// The JSON documents of `shared/apis/flowerhub-portal.md`, built from the store and the account.
extension FlowerHubStore {
    func user(_ account: FlowerHubSimulator.Account) -> JSONValue {
        [
            "id": .number(Double(account.userId)), "email": .string(account.username), "role": 3,
            "name": .string("\(account.firstName) \(account.lastName)"), "distributorId": nil, "installerId": nil,
            "assetOwnerId": .number(Double(account.assetOwnerId)),
        ]
    }

    func loginAnswer(_ account: FlowerHubSimulator.Account, refreshExpiry: Date) -> JSONValue {
        ["user": user(account), "refreshTokenExpirationDate": .string(refreshExpiry.portalDateTime)]
    }

    func assetOwner(_ account: FlowerHubSimulator.Account) -> JSONValue {
        [
            "id": .number(Double(account.assetOwnerId)), "firstName": .string(account.firstName),
            "lastName": .string(account.lastName),
            "installer": ["id": 31, "name": "Solkraft Installation AB"],
            "distributor": ["id": 7, "name": "Flower Distribution"],
            "asset": [
                "id": .number(Double(account.assetId)), "serialNumber": .string(account.serialNumber),
                "assetModel": ["id": 12, "name": "FlowerHub Home 10", "manufacturer": "Flower"],
            ],
            "compensation": ["status": "Qualified", "message": "Your battery qualifies for compensation"],
            "bessCompensationStartDate": "2025-03-01",
        ]
    }

    func assetOwnerWithAssetId(_ account: FlowerHubSimulator.Account) -> JSONValue {
        ["id": .number(Double(account.assetOwnerId)), "assetId": .number(Double(account.assetId)), "firstName": .string(account.firstName)]
    }

    func asset(_ account: FlowerHubSimulator.Account) -> JSONValue {
        let status = status
        return [
            "id": .number(Double(account.assetId)),
            "inverter": [
                "manufacturerId": 2, "manufacturerName": "Sungrow", "inverterModelId": 14, "name": "SH10RT",
                "numberOfBatteryStacksSupported": 2, "capacityId": 5, "powerCapacity": 10,
            ],
            "battery": [
                "manufacturerId": 2, "manufacturerName": "Sungrow", "batteryModelId": 21, "name": "SBR128",
                "minNumberOfBatteryModules": 3, "maxNumberOfBatteryModules": 8, "capacityId": 9,
                "energyCapacity": 12.8, "powerCapacity": 10,
            ],
            "fuseSize": 20,
            "flowerHubStatus": ["status": .string(status.status), "message": .string(status.message)],
            "isInstalled": true,
        ]
    }

    func agreement(_ account: FlowerHubSimulator.Account) -> JSONValue {
        func part(stateId: Int, start: String) -> JSONValue {
            [
                "stateCategory": "Active", "stateId": .number(Double(stateId)), "siteId": .number(Double(account.siteId)),
                "startDate": .string(start), "terminationDate": nil,
            ]
        }
        return ["consumption": part(stateId: 3, start: "2025-02-01T00:00:00.000Z"), "production": part(stateId: 3, start: "2025-03-01T00:00:00.000Z")]
    }

    func profile(_ account: FlowerHubSimulator.Account) -> JSONValue {
        [
            "id": .number(Double(account.assetOwnerId)), "firstName": .string(account.firstName),
            "lastName": .string(account.lastName), "mainEmail": .string(account.username), "contactEmail": nil,
            "phone": "+46701234567",
            "address": ["street": "Blomstervägen 12", "postalCode": "123 45", "city": "Västerås"],
            "accountStatus": "Verified",
            "installer": [
                "id": 31, "name": "Solkraft Installation AB",
                "address": ["street": "Verkstadsgatan 3", "postalCode": "721 30", "city": "Västerås"],
            ],
        ]
    }

    /// Newest first; the last twelve months.
    func invoices(_ account: FlowerHubSimulator.Account) -> JSONValue {
        .array(history.suffix(12).reversed().enumerated().map { index, record in invoice(record, account: account, isLatest: index == 0) })
    }

    private func invoice(_ record: MonthRecord, account: FlowerHubSimulator.Account, isLatest: Bool) -> JSONValue {
        let total = Self.amount(record.invoiceAmount)
        let energy = record.consumption
        let fee = 49.0
        let compensation = record.invoiceAmount - fee - energy * 1.5
        let lines: [JSONValue] = [
            line(item: 1, name: "Elhandel", price: 1.5, volume: energy, amount: energy * 1.5),
            line(item: 2, name: "Månadsavgift", price: fee, volume: 1, amount: fee),
            line(item: 3, name: "Batteriersättning", price: compensation, volume: 1, amount: compensation),
        ]
        let due = record.month.next.next.start.addingTimeInterval(-86_400)
        let pdf = "https://portal.flowerhub.se/invoices/\(record.invoiceId).pdf"
        return [
            "id": .string(String(record.invoiceId)), "due_date": .string(due.portalDateTime),
            "ocr": .string(String(record.invoiceId * 1_000 + 17)),
            "invoice_status": isLatest ? "Unpaid" : "Paid", "invoice_status_id": isLatest ? "2" : "3",
            "invoice_period": .string(record.month.label), "total_amount": .string(total),
            "remaining_amount": .string(isLatest ? total : "0.00"),
            "invoice_lines": .array(lines), "invoice_pdf": .string(pdf), "invoice_type": "group",
            "site_id": .string(String(account.siteId)),
            "sub_group_invoices": [
                [
                    "id": .string(String(record.invoiceId) + "1"), "invoice_status": isLatest ? "Unpaid" : "Paid",
                    "invoice_period": .string(record.month.label), "total_amount": .string(total),
                    "invoice_lines": .array(lines), "invoice_pdf": .string(pdf), "invoice_type": "site",
                    "site_id": .string(String(account.siteId)),
                ]
            ],
        ]
    }

    private func line(item: Int, name: String, price: Double, volume: Double, amount: Double) -> JSONValue {
        [
            "item_id": .string(String(item)), "name": .string(name), "description": nil,
            "price": .string(Self.amount(price)), "volume": .string(Self.amount(volume)), "amount": .string(Self.amount(amount)),
            "settlements": [],
        ]
    }

    /// Oldest first: each finished month as a `Reading`, this month (growing) as `Calculated`.
    func consumptionReadings(_ account: FlowerHubSimulator.Account) -> JSONValue {
        var readings: [JSONValue] = history.suffix(12).map { record in
            reading(month: record.month, validTo: .string(record.month.lastDay), volume: record.consumption, type: "Reading", typeId: "1", account: account)
        }
        readings.append(reading(month: month, validTo: nil, volume: consumption, type: "Calculated", typeId: "2", account: account))
        return .array(readings)
    }

    private func reading(month: FlowerHubMonth, validTo: JSONValue, volume: Double, type: String, typeId: String, account: FlowerHubSimulator.Account) -> JSONValue {
        [
            "site_id": .string(String(account.siteId)), "valid_from": .string(month.firstDay), "valid_to": validTo,
            "invoiced_month": .string(month.firstDay), "volume": .string(Self.amount(volume)), "type": .string(type),
            "type_id": .string(typeId),
        ]
    }

    /// Every month with uptime data, oldest first; the last is the current month.
    var availableMonths: JSONValue {
        .array((history.map(\.month) + [month]).map { ["value": .string($0.value), "label": .string($0.label)] })
    }

    var uptimeHistory: JSONValue {
        var entries: [JSONValue] = history.map { ["date": .string($0.month.value), "uptime": .number($0.uptimePercent)] }
        entries.append(["date": .string(month.value), "uptime": .number(currentUptimePercent)])
        return .array(entries)
    }

    /// Seconds of uptime, downtime and no data in `period`; `nil` for a month without data.
    func uptimePie(_ period: FlowerHubMonth) -> JSONValue? {
        let seconds: (Double, Double, Double)
        if period == month {
            seconds = (uptime.rounded(), downtime.rounded(), noData.rounded())
        } else if let record = history.first(where: { $0.month == period }) {
            seconds = (record.uptime, record.downtime, record.noData)
        } else {
            return nil
        }
        return [
            ["name": "uptime", "value": .number(seconds.0)], ["name": "downtime", "value": .number(seconds.1)],
            ["name": "noData", "value": .number(seconds.2)],
        ]
    }

    /// Two decimals, as the portal writes money and volumes.
    static func amount(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}
