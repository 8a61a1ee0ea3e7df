"""claude-agent-server: Claude Agent SDK sessions behind REST, SSE and /invocations."""

__version__ = "0.1.0"

__all__ = ["__version__", "create_app"]


def __getattr__(name: str):  # lazy: importing the package builds nothing
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
