"""The phone: route policy, the session model, the asyncio route manager, scenarios and the CLI."""
