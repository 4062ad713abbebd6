"""The connection's functions for LLM agents: tool schemas, a dispatcher, framework adapters."""
