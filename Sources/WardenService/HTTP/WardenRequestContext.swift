import Hummingbird
import NIOCore

/// The request context of Warden's HTTP server: Hummingbird's basics plus the peer's address, which the
/// OAuth callback throttle keys on (SPEC 1.9) and failed admin logins are logged and slowed by.
public struct WardenRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer (a reverse proxy's address when there is one); nil in router-only tests.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's address without its port (`127.0.0.1`, `::1`), or `unknown`.
    var clientAddress: String { HTTPConnectionLimits.describe(remoteAddress) }
}
