"""Live inputs: each runs on its own thread and emits columnar sample batches. No Qt."""
