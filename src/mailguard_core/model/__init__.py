"""The model: values, errors, the tool set and postures, and pure rules every layer shares.

Imports nothing of mailguard outside this package (``docs/architecture.md``).
"""
