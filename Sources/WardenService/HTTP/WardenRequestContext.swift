import Hummingbird
import NIOCore

/// Hummingbird's basic request context plus the peer's address, which the OAuth callback throttle keys
/// on (SPEC 1.9). In-process tests (HummingbirdTesting's router mode) have no peer: nil.
public struct WardenRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
