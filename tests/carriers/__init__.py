"""Each carrier's own tests, one folder per carrier slug (the carrier folder contract: docs/adding-a-carrier.md)."""
