// The cluster's storage types (the database handle, leases, errors, status) are part of
// this module's interface; the PostgreSQL behind them stays inside `ClusterStorage`.
@_exported import ClusterStorage
