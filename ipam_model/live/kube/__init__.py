"""Reading a cluster through the Kubernetes API (lightkube), read-only."""
