"""The ways in: the command line, batch files, the HTTP API, the MCP server, uploads, and the library they share."""
