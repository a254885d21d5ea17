import Hummingbird
import NIOCore

/// The request context of the daemon's HTTP listener: Hummingbird's basic context plus the
/// client's address, which the transparency endpoint's rate limit is kept by.
struct DaemonRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
