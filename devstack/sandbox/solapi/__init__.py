"""SOLAPI (REST v4) in the provider sandbox: its own rules, codes and state, served by the same server.

Nothing here imports the product: a sandbox that shared the product's rules could not catch its mistakes.
"""
