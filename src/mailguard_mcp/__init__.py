"""mailguard_mcp: the thin MCP adapter in front of mailguard_core."""
