"""The Reddit-compatible server, its data generator and the `make demo` runner; never imported by the product."""
