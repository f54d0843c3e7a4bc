from mailguard_mcp.cli import main

raise SystemExit(main())
