"""Provider billing exports in: parsing OpenAI/Anthropic usage and cost exports
(exports) and loading them into provider_usage / provider_costs (loader)."""
