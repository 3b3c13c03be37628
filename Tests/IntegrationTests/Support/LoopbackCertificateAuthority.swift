import Foundation
import HummingbirdTLS

/// A throwaway certificate authority made with the `openssl` command line tool in a temporary folder,
/// and a server certificate it signed for 127.0.0.1 and localhost. `remove()` deletes the folder.
struct LoopbackCertificateAuthority {
    let folder: URL
    var caFile: String { path("ca.pem") }

    static func make(name: String = "Warden REST Test CA") throws -> LoopbackCertificateAuthority {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-rest-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let authority = LoopbackCertificateAuthority(folder: folder)
        try authority.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=\(name)",
                           "-addext", "basicConstraints=critical,CA:TRUE",
                           "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: folder.appendingPathComponent("server.ext"))
        try authority.run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        try authority.run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                           "-out", "server.pem", "-days", "2", "-extfile", "server.ext"])
        return authority
    }

    /// The server side: the certificate this CA signed and its key.
    func serverTLS() throws -> TLSConfiguration {
        TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(path("server.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: path("server.key"), format: .pem)))
    }

    /// A folder laid out like /etc/ssl/certs (`<subject hash>.0` names) that holds this CA only.
    func hashedDirectory() throws -> String {
        let directory = folder.appendingPathComponent("hashed")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let hash = try output(["x509", "-noout", "-subject_hash", "-in", "ca.pem"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.copyItem(atPath: caFile, toPath: directory.appendingPathComponent("\(hash).0").path)
        return directory.path
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func run(_ arguments: [String]) throws { _ = try output(arguments) }

    private func output(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LoopbackCertificateError.opensslFailed(arguments.prefix(2).joined(separator: " ")) }
        return String(decoding: data, as: UTF8.self)
    }
}

enum LoopbackCertificateError: Error { case opensslFailed(String) }
