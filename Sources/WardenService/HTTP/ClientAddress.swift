import Foundation
import WardenConfig

/// Who sent a request, for the callback throttle (SPEC 1.9): the peer, or, when the peer is a trusted
/// proxy (`http.trusted_proxies`), the address the proxies name in `X-Forwarded-For`.
///
/// Proxies append the address they received from, so the list is read from the right: trusted proxies
/// are skipped, and the first address that is not one is the client. An entry that is not an address
/// ends the walk at the last proxy trusted so far (whoever wrote it is not to be believed further).
struct ClientAddressResolver: Sendable {
    let trustedProxies: [IPAddressRange]

    /// The client's address as text, or "unknown" when there is no peer address (in-process tests).
    func client(peer: IPAddress?, forwardedFor: [String]) -> String {
        guard let peer else { return "unknown" }
        var client = peer
        guard isTrusted(client) else { return client.description }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
        for hop in hops.reversed() {
            guard let address = Self.address(hop) else { break }
            client = address
            if !isTrusted(address) { break }
        }
        return client.description
    }

    func isTrusted(_ address: IPAddress) -> Bool { trustedProxies.contains { $0.contains(address) } }

    /// One `X-Forwarded-For` entry: an address, maybe with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
    static func address(_ entry: Substring) -> IPAddress? {
        let text = entry.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return IPAddress(text[text.index(after: text.startIndex)..<close])
        }
        if let address = IPAddress(text) { return address }
        // IPv4 with a port: exactly one colon.
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 ? IPAddress(parts[0]) : nil
    }
}
