"""What-if simulation engine."""
