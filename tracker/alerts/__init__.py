"""Email alerts: subscriptions to searches and entities, digests, one-click unsubscribe."""
