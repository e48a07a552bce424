"""Inputs: read and validate dataset folders and scenarios, uploads, shipped presets and PSPLIB instances."""
