"""The embedded runtime: an HTTP server that speaks API Gateway events, and the local worker."""
