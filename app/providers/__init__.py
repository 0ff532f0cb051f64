"""Provider adapters: one interface (``base.ProviderAdapter``), one module per provider."""
