"""The per-pipeline local cloud: one daemon process that hosts every service, and its client.

Importing this package stays light: the client side (client.py, protocol.py, home.py)
uses the standard library only; the daemon side (main.py and what it hosts) loads
the servers and models only in the daemon process.
"""
