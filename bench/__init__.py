"""``make bench``: the load benchmark, beside a bare Channels relay (docs/performance.md)."""
