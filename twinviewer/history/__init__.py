"""The history store (later issue): append batches; values of all sensors at t."""
