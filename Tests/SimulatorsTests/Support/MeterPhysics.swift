import BridgeCore
import Simulators

/// The physical invariants every (non-quirky) telegram of a three-phase meter keeps, as readable
/// violations so one `#expect` reports them all.
enum MeterPhysics {
    /// What is wrong with `telegrams`, in order: each on its own, and the registers from one to the next.
    static func violations(_ telegrams: [CozifyHANTelegram]) -> [String] {
        var found: [String] = []
        for (index, telegram) in telegrams.enumerated() {
            found += violations(telegram).map { "telegram \(index): \($0)" }
        }
        for (index, (previous, next)) in zip(telegrams, telegrams.dropFirst()).enumerated() {
            for (name, before, after) in [
                ("ic", previous.ic, next.ic), ("ec", previous.ec, next.ec),
                ("ric", previous.ric, next.ric), ("rec", previous.rec, next.rec),
            ] where after < before {
                found.append("telegram \(index + 1): \(name) went backwards from \(before) to \(after)")
            }
        }
        return found
    }

    /// What is wrong with one telegram.
    static func violations(_ telegram: CozifyHANTelegram) -> [String] {
        var found: [String] = []
        if telegram.type != "HAN_METER_MESSAGE" { found.append("type \(telegram.type)") }
        let arrays = [("p", telegram.p), ("pi", telegram.pi), ("pe", telegram.pe), ("r", telegram.r), ("ri", telegram.ri), ("re", telegram.re)]
        for (name, values) in arrays where values.count != 4 { found.append("\(name) has \(values.count) items, not 4") }
        if telegram.u.count != 3 || telegram.i.count != 3 { found.append("u/i have \(telegram.u.count)/\(telegram.i.count) items, not 3") }
        guard found.isEmpty else { return found }

        for phase in 1...3 {
            let imported = telegram.pi[phase], exported = telegram.pe[phase]
            if imported < 0 || exported < 0 { found.append("L\(phase): negative power pi \(imported) pe \(exported)") }
            if imported != 0 && exported != 0 { found.append("L\(phase): imports \(imported) W and exports \(exported) W at once") }
            if telegram.ri[phase] != 0 && telegram.re[phase] != 0 { found.append("L\(phase): reactive import and export at once") }
            if telegram.p[phase] != imported - exported { found.append("L\(phase): p \(telegram.p[phase]) is not pi - pe") }
            if telegram.r[phase] != telegram.ri[phase] - telegram.re[phase] { found.append("L\(phase): r is not ri - re") }

            let voltage = telegram.u[phase - 1], current = telegram.i[phase - 1]
            if !(220...245).contains(voltage) { found.append("L\(phase): voltage \(voltage) V outside 220–245 V") }
            guard voltage > 0 else { continue }
            let active = max(imported, exported)
            let reactive = max(telegram.ri[phase], telegram.re[phase])
            // I = S / U with S = √(P² + Q²), rounded to 0.01 A.
            let apparentCurrent = (active * active + reactive * reactive).squareRoot() / voltage
            if abs(current - apparentCurrent) > 0.006 {
                found.append("L\(phase): current \(current) A, but √(P² + Q²) / U is \(apparentCurrent) A")
            }
            // I ≈ P / U with a power factor of at least 0.92.
            if current < active / voltage - 0.006 || current > active / voltage / 0.92 + 0.006 {
                found.append("L\(phase): current \(current) A does not fit \(active) W at \(voltage) V")
            }
        }
        let net = (1...3).reduce(0.0) { $0 + telegram.p[$1] }
        if telegram.pi[0] != 0 && telegram.pe[0] != 0 { found.append("total imports and exports at once") }
        if telegram.pi[0] - telegram.pe[0] != net { found.append("total pi - pe \(telegram.pi[0] - telegram.pe[0]) is not the phases' net \(net)") }
        if telegram.p[0] != net { found.append("total p \(telegram.p[0]) is not the phases' net \(net)") }
        let reactiveNet = (1...3).reduce(0.0) { $0 + telegram.r[$1] }
        if telegram.ri[0] - telegram.re[0] != reactiveNet { found.append("total ri - re is not the phases' net") }
        for (name, value) in [("ic", telegram.ic), ("ec", telegram.ec), ("ric", telegram.ric), ("rec", telegram.rec)] where !(value > 0) {
            found.append("register \(name) is \(value)")
        }
        return found
    }
}
