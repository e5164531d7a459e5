"""Host-side stack tooling: standard library only; never imports scripts.loop or scripts.data."""
