"""Guided tours: the Tours dock (editor), the player and the presenter mode."""
