"""Operating-system helpers: where files live on each platform, and file operations that differ.

Imports nothing of mailguard outside this package (``docs/architecture.md``).
"""
