"""SOLAPI (REST v4): the wire client, its code tables and its HMAC auth.

Imports nothing from the product but the pure domain, so that it can be wired to the provider
ports without touching them."""
