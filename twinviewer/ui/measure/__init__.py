"""Measurement tools: distance, angle, area, point location and clearance, picked in 3D."""
