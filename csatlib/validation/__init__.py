"""Great Expectations suites built from the spec, and validation of a wave against them."""
