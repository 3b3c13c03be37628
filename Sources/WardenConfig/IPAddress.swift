#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, as its 4 or 16 bytes (parsed and printed by the C library's `inet_pton` and
/// `inet_ntop`). An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket reports an
/// IPv4 peer) is taken as the IPv4 address, so one client has one address whichever socket it came on.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]

    /// Parses `192.0.2.1` or `2001:db8::1`; nil for anything else (names, ports, brackets, zones).
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        bytes = Self.isIPv4Mapped(raw) ? Array(raw[12...]) : raw
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if isIPv4 {
            var v4 = in_addr()
            withUnsafeMutableBytes(of: &v4) { $0.copyBytes(from: bytes) }
            inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count))
        } else {
            var v6 = in6_addr()
            withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
            inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isIPv4Mapped(_ raw: [UInt8]) -> Bool {
        raw.count == 16 && raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF
    }
}

/// One address or a CIDR range of them (`192.0.2.0/24`, `2001:db8::/32`), as `http.trusted_proxies` lists.
public struct IPAddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the range (host bits cleared).
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses `address` or `address/prefix`; nil when either part is invalid.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let bits = address.bytes.count * 8
        var length = bits
        if parts.count == 2 {
            // A mapped IPv4 address was written as IPv6: its prefix counts the 96 bits before the IPv4 part.
            let written = parts[0].contains(":") && address.isIPv4 ? 128 : bits
            guard parts[1].allSatisfy(\.isASCII), let value = Int(parts[1]), value >= 0, value <= written,
                  written == bits || value >= 96 else { return nil }
            length = value - (written - bits)
        }
        prefixLength = length
        network = IPAddress(masking: address, to: length)
    }

    /// Whether `address` lies in the range (an IPv4 address is never in an IPv6 range, and the reverse).
    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && IPAddress(masking: address, to: prefixLength) == network
    }

    public var description: String {
        prefixLength == network.bytes.count * 8 ? network.description : "\(network)/\(prefixLength)"
    }

    /// `http.trusted_proxies` by default: the loopback addresses, 127.0.0.0/8 and ::1.
    public static let loopback: [IPAddressRange] = [IPAddressRange("127.0.0.0/8")!, IPAddressRange("::1")!]
}

extension IPAddress {
    /// The address with every bit after the first `prefixLength` cleared.
    init(masking address: IPAddress, to prefixLength: Int) {
        var bytes = address.bytes
        for index in bytes.indices {
            let keep = max(0, min(8, prefixLength - index * 8))
            bytes[index] &= keep == 8 ? 0xFF : ~(0xFF >> UInt8(keep))
        }
        self.bytes = bytes
    }
}
