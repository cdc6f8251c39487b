"""Prediction and health: models of normal behaviour trained on the twin's own history.

Qt-free and free of I/O with the asset: numpy, scipy and LightGBM only. Models are stored as
data (JSON + npz, LightGBM's text format), never pickle, so that opening a model file cannot
execute anything.
"""
