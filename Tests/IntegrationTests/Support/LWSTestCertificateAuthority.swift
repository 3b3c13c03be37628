import Foundation

/// A throwaway CA and a server certificate it signed for `localhost` (DNS name only, no IP address),
/// made with the `openssl` command line tool in a temporary folder that is removed by `remove()`.
struct LWSTestCertificateAuthority {
    let folder: URL
    var caFile: String { folder.appendingPathComponent("ca.pem").path }
    var serverCertificateFile: String { folder.appendingPathComponent("server.pem").path }
    var serverKeyFile: String { folder.appendingPathComponent("server.key").path }

    static func make() throws -> LWSTestCertificateAuthority {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("warden-lws-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let authority = LWSTestCertificateAuthority(folder: folder)
        try authority.openssl(["req", "-x509"] + Self.newKey + [
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Warden Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        _ = try authority.issue(dnsName: "localhost", as: "server")
        return authority
    }

    /// Issues a server certificate for `dnsName` signed by this CA; returns the certificate and key files.
    func issue(dnsName: String, as name: String) throws -> (certificate: String, key: String) {
        try Data("""
            subjectAltName=DNS:\(dnsName)
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature
            extendedKeyUsage=serverAuth

            """.utf8).write(to: folder.appendingPathComponent("\(name).ext"))
        try openssl(["req"] + Self.newKey + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(dnsName)"])
        try openssl([
            "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
        ])
        return (folder.appendingPathComponent("\(name).pem").path, folder.appendingPathComponent("\(name).key").path)
    }

    private static let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LWSTestCertificateError.opensslFailed(arguments.prefix(2).joined(separator: " "))
        }
    }
}

enum LWSTestCertificateError: Error {
    case opensslFailed(String)
}
