"""What every loop command shares: input checks, quiet terminals, the mmengine Runner, MLflow tracking."""
