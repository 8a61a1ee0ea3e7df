"""A tiny stdio MCP server for the tests: one tool, ``shout``, that upper-cases its text."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("shout")


@server.tool()
def shout(text: str) -> str:
    """Upper-case ``text`` and add an exclamation mark."""
    return text.upper() + "!"


if __name__ == "__main__":
    server.run()
