"""The filmc runtime: executes render plans produced by the compiler."""
